import {
  ACCESS_LOG_FIELDS,
  DEFAULT_REDACTED_PARAMS,
  type AccessLogField,
} from '../config/gateway-config.types';
import type { AccessRecord } from './access-log.service';
import { accessLineFormatter, isoTime, msNumber, queryRedactor, REDACTED } from './access-line';

describe('accessLineFormatter', () => {
  const all = accessLineFormatter(ACCESS_LOG_FIELDS, []);
  // Required<>: a field added to AccessRecord does not compile here until it is set, and the
  // first test then fails until the formatter writes it.
  const record: Required<AccessRecord> = {
    requestId: 'req-1',
    method: 'GET',
    host: 'api.example.com',
    path: '/v1/items',
    query: 'x=1&y=2',
    route: 'api',
    upstream: 'http://10.0.0.5:8080/',
    status: 200,
    durationMs: 1.234,
    upstreamLatencyMs: 0.987,
    attempts: 2,
    cacheStatus: 'MISS',
    bytesIn: 0,
    bytesOut: 512,
    clientIp: '203.0.113.9',
    userAgent: 'curl/8.5.0',
    referer: 'https://app.example.com/page?tab=2',
    principal: 'billing',
    error: 'upstream timeout',
    traceId: 'a'.repeat(32),
  };

  it('should write every field, as the same JSON a pino line would, in one line', () => {
    const line = all('info', '', record);
    expect(line.endsWith('}\n')).toBe(true);
    expect(line.indexOf('\n')).toBe(line.length - 1);
    const parsed = JSON.parse(line) as Record<string, unknown>;
    expect(parsed.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect({ ...parsed, time: 'T' }).toEqual({
      level: 'info',
      time: 'T',
      ...record,
      msg: 'request completed',
    });
    expect(Object.keys(parsed)).toEqual(['level', 'time', ...ACCESS_LOG_FIELDS, 'msg']);
  });

  it("should put the logger's bindings after the time, as pino does", () => {
    const parsed = JSON.parse(all('info', ',"pid":4242', record)) as Record<string, unknown>;
    expect(Object.keys(parsed).slice(0, 4)).toEqual(['level', 'time', 'pid', 'requestId']);
    expect(parsed.pid).toBe(4242);
  });

  it('should leave out undefined fields and an empty query, as JSON.stringify does', () => {
    const parsed = JSON.parse(
      all('warn', '', {
        ...record,
        method: undefined,
        host: undefined,
        path: undefined,
        query: '',
        route: undefined,
        upstream: undefined,
        upstreamLatencyMs: undefined,
        cacheStatus: undefined,
        userAgent: undefined,
        referer: undefined,
        principal: undefined,
        error: undefined,
        traceId: undefined,
      }),
    ) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual([
      'level',
      'time',
      'requestId',
      'status',
      'durationMs',
      'attempts',
      'bytesIn',
      'bytesOut',
      'clientIp',
      'msg',
    ]);
    expect(parsed.level).toBe('warn');
  });

  it('should write only the chosen fields, in the fixed order, whatever order they were given in', () => {
    const chosen: AccessLogField[] = ['status', 'path', 'cacheStatus', 'upstreamLatencyMs'];
    const parsed = JSON.parse(accessLineFormatter(chosen, [])('info', '', record)) as Record<
      string,
      unknown
    >;
    expect(Object.keys(parsed)).toEqual([
      'level',
      'time',
      'path',
      'status',
      'upstreamLatencyMs',
      'cacheStatus',
      'msg',
    ]);
    expect(parsed).toMatchObject({ path: '/v1/items', status: 200, cacheStatus: 'MISS' });
  });

  it('should escape hostile strings so no line can be forged', () => {
    const hostile = {
      ...record,
      path: '/a"b\\c\n{"level":"info","msg":"forged"}',
      host: 'h\u0000\u001f\u2028é',
      error: 'bad "upstream"\r\n',
      principal: '\ud800',
    };
    const line = all('info', '', hostile);
    expect(line.split('\n')).toHaveLength(2);
    const parsed = JSON.parse(line) as Record<string, unknown>;
    expect(parsed.path).toBe(hostile.path);
    expect(parsed.host).toBe(hostile.host);
    expect(parsed.error).toBe(hostile.error);
    expect(parsed.msg).toBe('request completed');
  });

  it('should escape every string field, each on its own', () => {
    const keys = Object.keys(record).filter(
      (k) => typeof record[k as keyof AccessRecord] === 'string',
    ) as (keyof AccessRecord)[];
    expect(keys).toHaveLength(14);
    for (const key of keys) {
      const hostile = { ...record, [key]: 'x"},"level":"fatal\\\n\u0001é' };
      const line = all('info', '', hostile);
      expect(line.split('\n')).toHaveLength(2);
      expect(JSON.parse(line)).toMatchObject({ [key]: hostile[key], level: 'info' });
    }
  });

  it('should write non-finite numbers as null rather than invalid JSON', () => {
    const parsed = JSON.parse(
      all('info', '', { ...record, durationMs: NaN, upstreamLatencyMs: Infinity }),
    ) as Record<string, unknown>;
    expect(parsed.durationMs).toBeNull();
    expect(parsed.upstreamLatencyMs).toBeNull();
  });

  it('should mask the named parameters in the query and in the referer, keeping the rest', () => {
    const format = accessLineFormatter(ACCESS_LOG_FIELDS, DEFAULT_REDACTED_PARAMS);
    const parsed = JSON.parse(
      format('info', '', {
        ...record,
        query: 'page=2&api_key=abc123&q=a+b',
        referer: 'https://app.example.com/cb?code=oauth-code&state=s1#access_token=frag',
      }),
    ) as Record<string, unknown>;
    expect(parsed.query).toBe(`page=2&api_key=${REDACTED}&q=a+b`);
    // The fragment never reaches a server from a browser's Referer; it is left as sent.
    expect(parsed.referer).toBe(
      `https://app.example.com/cb?code=${REDACTED}&state=s1#access_token=frag`,
    );
  });
});

describe('queryRedactor', () => {
  const redact = queryRedactor(['token', 'password', 'x-amz-signature']);

  it('should mask the value of a named parameter wherever it is', () => {
    expect(redact('token=abc')).toBe(`token=${REDACTED}`);
    expect(redact('a=1&token=abc&b=2')).toBe(`a=1&token=${REDACTED}&b=2`);
    expect(redact('a=1&password=p%40ss')).toBe(`a=1&password=${REDACTED}`);
    expect(redact('token=1&token=2')).toBe(`token=${REDACTED}&token=${REDACTED}`);
  });

  it('should compare names as the upstream decodes them: any case, percent-escapes, +', () => {
    expect(redact('TOKEN=abc')).toBe(`TOKEN=${REDACTED}`);
    expect(redact('to%6Ben=abc')).toBe(`to%6Ben=${REDACTED}`);
    expect(redact('X-Amz-Signature=f00d')).toBe(`X-Amz-Signature=${REDACTED}`);
    expect(queryRedactor(['my token'])('my+token=abc&my%20token=d')).toBe(
      `my+token=${REDACTED}&my%20token=${REDACTED}`,
    );
  });

  it('should treat ; as a separator and bracketed names by their parts', () => {
    expect(redact('a=1;token=abc')).toBe(`a=1;token=${REDACTED}`);
    expect(redact('user[password]=p&token[]=t&user[name]=n')).toBe(
      `user[password]=${REDACTED}&token[]=${REDACTED}&user[name]=n`,
    );
    expect(redact('user%5Bpassword%5D=p')).toBe(`user%5Bpassword%5D=${REDACTED}`);
  });

  it('should leave alone other names, names without a value and malformed escapes', () => {
    expect(redact('tokens=abc&mytoken=x')).toBe('tokens=abc&mytoken=x');
    expect(redact('token&token=')).toBe('token&token=');
    expect(redact('tok%zzen=abc')).toBe('tok%zzen=abc');
    expect(redact('')).toBe('');
  });

  it('should return the very same string when nothing is masked, and with no names at all', () => {
    const query = 'a=1&b=2';
    expect(redact(query)).toBe(query);
    expect(queryRedactor([])('token=abc')).toBe('token=abc');
  });
});

describe('msNumber', () => {
  it('should write a duration rounded to 3 decimals exactly as String() does', () => {
    for (let i = 0; i < 200_000; i++) {
      const raw = i % 2 === 0 ? Math.random() * 10 ** (i % 8) : i / 1000 + Math.random() / 1e4;
      const ms = Math.round(raw * 1000) / 1000;
      expect(msNumber(ms)).toBe(String(ms));
    }
    expect(msNumber(0)).toBe('0');
    expect(msNumber(0.1)).toBe('0.1');
    expect(msNumber(12.05)).toBe('12.05');
    expect(msNumber(999.999)).toBe('999.999');
  });

  it('should fall back to String() outside its range, and null where JSON has no number', () => {
    expect(msNumber(-1.5)).toBe('-1.5');
    expect(msNumber(1e12)).toBe('1000000000000');
    expect(msNumber(NaN)).toBe('null');
    expect(msNumber(Infinity)).toBe('null');
  });
});

describe('isoTime', () => {
  it('should write the time exactly as Date#toISOString does, across seconds, minutes and days', () => {
    const start = Date.UTC(2026, 11, 31, 23, 58, 57, 990);
    for (let ms = start; ms < start + 200_000; ms += 7) {
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
    // Back in time (a wall-clock step), and the epoch.
    expect(isoTime(start)).toBe(new Date(start).toISOString());
    expect(isoTime(0)).toBe('1970-01-01T00:00:00.000Z');
  });
});
