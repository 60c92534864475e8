import type { AccessRecord } from './access-log.service';

/** Printable ASCII without `"` and `\`: such a string is its own JSON form between quotes. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * A string's JSON form without the surrounding quotes (the line's constant parts carry them):
 * usually the string itself, so nothing is allocated for it.
 */
function escaped(value: string): string {
  return PLAIN.test(value) ? value : JSON.stringify(value).slice(1, -1);
}

let lastMs = 0;
let lastIso = '';

/** ISO time, formatted once per millisecond: thousands of lines share one at full load. */
function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

/** A finite number, or null (JSON has no NaN or Infinity). */
function jsonNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

/**
 * One access-log line, the same JSON as pino writes for it (fields in AccessRecord's order,
 * undefined ones left out as JSON.stringify does), built by hand: JSON.stringify of the record
 * plus a Date per line cost ~5% of proxy CPU in the bench profile (issue 3). Written out field
 * by field (a loop over a field table read the record by computed keys), each string field's
 * quotes inside the constant parts so a plain value goes in as it is: together 25–35% less per line
 * (`node bench/access-log-micro.js`). Client-controlled strings (path, host, principal, errors)
 * are escaped, so they cannot forge lines.
 */
export function formatAccessLine(level: 'info' | 'warn', r: AccessRecord): string {
  let line =
    '{"level":"' + level + '","time":"' + isoNow() + '","requestId":"' + escaped(r.requestId);
  if (r.method !== undefined) {
    line += '","method":"' + escaped(r.method);
  }
  if (r.host !== undefined) {
    line += '","host":"' + escaped(r.host);
  }
  if (r.path !== undefined) {
    line += '","path":"' + escaped(r.path);
  }
  if (r.route !== undefined) {
    line += '","route":"' + escaped(r.route);
  }
  if (r.upstream !== undefined) {
    line += '","upstream":"' + escaped(r.upstream);
  }
  line +=
    '","status":' +
    jsonNumber(r.status) +
    ',"durationMs":' +
    jsonNumber(r.durationMs) +
    ',"bytesIn":' +
    jsonNumber(r.bytesIn) +
    ',"bytesOut":' +
    jsonNumber(r.bytesOut) +
    ',"clientIp":"' +
    escaped(r.clientIp);
  if (r.principal !== undefined) {
    line += '","principal":"' + escaped(r.principal);
  }
  if (r.error !== undefined) {
    line += '","error":"' + escaped(r.error);
  }
  if (r.traceId !== undefined) {
    line += '","traceId":"' + escaped(r.traceId);
  }
  return line + '","msg":"request completed"}\n';
}
