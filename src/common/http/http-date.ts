/**
 * HTTP-date (RFC 9110 §5.6.7): the preferred IMF-fixdate and the two obsolete forms recipients
 * must still accept, RFC 850 and asctime. Anything else is not a date: `Date.parse` would take
 * `Thu, 18-Aug-2050`, `2:01:18`, double spaces, a missing comma and `UTC`, and an `Expires` it
 * wrongly accepts keeps a response fresh that must count as already expired (RFC 9111 §5.3).
 * Names are compared without case, as Squid and Traffic Server do; the layout is exact.
 */

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const LONG_DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
/** `Sun, 06 Nov 1994 08:49:37 GMT` */
const IMF_FIXDATE = new RegExp(`^([A-Za-z]{3}), (\\d{2}) ([A-Za-z]{3}) (\\d{4}) ${TIME} GMT$`, 'i');
/** `Sunday, 06-Nov-94 08:49:37 GMT` */
const RFC850 = new RegExp(`^([A-Za-z]{6,9}), (\\d{2})-([A-Za-z]{3})-(\\d{2}) ${TIME} GMT$`, 'i');
/** `Sun Nov  6 08:49:37 1994` (day is two digits or a space and one digit) */
const ASCTIME = new RegExp(`^([A-Za-z]{3}) ([A-Za-z]{3}) (\\d{2}| \\d) ${TIME} (\\d{4})$`, 'i');

function build(
  year: number,
  monthName: string,
  day: number,
  hour: number,
  minute: number,
  second: number,
): number | undefined {
  const month = MONTHS.indexOf(monthName.toLowerCase());
  if (month === -1 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return undefined;
  }
  const t = Date.UTC(year, month, day, hour, minute, Math.min(second, 59));
  // 31 Feb and the like roll over into the next month: not a date.
  return new Date(t).getUTCDate() === day ? t : undefined;
}

/**
 * Milliseconds since the epoch of an HTTP-date, or undefined when `value` is not one. `now` only
 * places RFC 850's two-digit years: one that would lie more than 50 years ahead is the most
 * recent past year with those digits (RFC 9110 §5.6.7).
 */
export function parseHttpDate(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  const v = value.trim();
  let m = IMF_FIXDATE.exec(v);
  if (m !== null) {
    if (!DAYS.includes(m[1].toLowerCase())) {
      return undefined;
    }
    return build(Number(m[4]), m[3], Number(m[2]), Number(m[5]), Number(m[6]), Number(m[7]));
  }
  m = RFC850.exec(v);
  if (m !== null) {
    if (!LONG_DAYS.includes(m[1].toLowerCase())) {
      return undefined;
    }
    const thisYear = new Date(now).getUTCFullYear();
    let year = Math.floor(thisYear / 100) * 100 + Number(m[4]);
    if (year > thisYear + 50) {
      year -= 100;
    } else if (year <= thisYear - 50) {
      year += 100;
    }
    return build(year, m[3], Number(m[2]), Number(m[5]), Number(m[6]), Number(m[7]));
  }
  m = ASCTIME.exec(v);
  if (m !== null) {
    if (!DAYS.includes(m[1].toLowerCase())) {
      return undefined;
    }
    return build(Number(m[7]), m[2], Number(m[3].trim()), Number(m[4]), Number(m[5]), Number(m[6]));
  }
  return undefined;
}
