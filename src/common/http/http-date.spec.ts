import { parseHttpDate } from './http-date';

const NOW = Date.UTC(2026, 0, 1);
const T = Date.UTC(2050, 7, 18, 2, 1, 18);

describe('parseHttpDate (RFC 9110 §5.6.7)', () => {
  it('accepts the three forms', () => {
    expect(parseHttpDate('Thu, 18 Aug 2050 02:01:18 GMT', NOW)).toBe(T);
    expect(parseHttpDate('Thursday, 18-Aug-50 02:01:18 GMT', NOW)).toBe(T);
    expect(parseHttpDate('Thu Aug 18 02:01:18 2050', NOW)).toBe(T);
    expect(parseHttpDate('Thu Aug  8 02:01:18 2050', NOW)).toBe(Date.UTC(2050, 7, 8, 2, 1, 18));
  });

  it('compares names without case, as Squid and Traffic Server do', () => {
    expect(parseHttpDate('THU, 18 AUG 2050 02:01:18 gmt', NOW)).toBe(T);
  });

  it('reads an RFC 850 two-digit year more than 50 years ahead as the past one', () => {
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', NOW)).toBe(
      Date.UTC(1994, 10, 6, 8, 49, 37),
    );
    expect(parseHttpDate('Thursday, 18-Aug-50 02:01:18 GMT', NOW)).toBe(T);
  });

  it.each([
    ['a 1-digit hour', 'Thu, 18 Aug 2050 2:01:18 GMT'],
    ['dashes in the date', 'Thu, 18-Aug-2050 02:01:18 GMT'],
    ['several spaces', 'Thu, 18  Aug  2050 02:01:18 GMT'],
    ['no comma', 'Thu 18 Aug 2050 02:01:18 GMT'],
    ['UTC instead of GMT', 'Thu, 18 Aug 2050 02:01:18 UTC'],
    ['another zone', 'Thu, 18 Aug 2050 02:01:18 AEST'],
    ['a two-digit year in IMF-fixdate', 'Thu, 18 Aug 50 02:01:18 GMT'],
    ['periods in the time', 'Thu, 18 Aug 2050 02.01.18 GMT'],
    ['a number', '0'],
    ['two field lines joined', 'Thu, 18 Aug 2050 02:01:18 GMT, Thu, 18 Aug 2050 02:01:19 GMT'],
    ['an impossible day', 'Mon, 31 Feb 2050 02:01:18 GMT'],
    ['an unknown day name', 'Xyz, 18 Aug 2050 02:01:18 GMT'],
    ['an ISO date', '2050-08-18T02:01:18Z'],
  ])('refuses %s', (_what, value) => {
    expect(parseHttpDate(value, NOW)).toBeUndefined();
  });
});
