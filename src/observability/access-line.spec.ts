import type { AccessRecord } from './access-log.service';
import { formatAccessLine } from './access-line';

describe('formatAccessLine', () => {
  // Required<>: a field added to AccessRecord does not compile here until it is set, and the
  // first test then fails until formatAccessLine writes it.
  const record: Required<AccessRecord> = {
    requestId: 'req-1',
    method: 'GET',
    host: 'api.example.com',
    path: '/v1/items?x=1',
    route: 'api',
    upstream: 'http://10.0.0.5:8080/',
    status: 200,
    durationMs: 1.234,
    bytesIn: 0,
    bytesOut: 512,
    clientIp: '203.0.113.9',
    principal: 'billing',
    error: 'upstream timeout',
    traceId: 'a'.repeat(32),
  };

  it('should write every field, as the same JSON a pino line would, in one line', () => {
    const line = formatAccessLine('info', record);
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
    expect(Object.keys(parsed)).toEqual(['level', 'time', ...Object.keys(record), 'msg']);
  });

  it('should leave out undefined fields, as JSON.stringify does', () => {
    const parsed = JSON.parse(
      formatAccessLine('warn', {
        ...record,
        method: undefined,
        host: undefined,
        path: undefined,
        route: undefined,
        upstream: undefined,
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
      'bytesIn',
      'bytesOut',
      'clientIp',
      'msg',
    ]);
    expect(parsed.level).toBe('warn');
  });

  it('should escape hostile strings so no line can be forged', () => {
    const hostile = {
      ...record,
      path: '/a"b\\c\n{"level":"info","msg":"forged"}',
      host: 'h\u0000\u001f\u2028é',
      error: 'bad "upstream"\r\n',
      principal: '\ud800',
    };
    const line = formatAccessLine('info', hostile);
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
    expect(keys).toHaveLength(10);
    for (const key of keys) {
      const hostile = { ...record, [key]: 'x"},"level":"fatal\\\n\u0001é' };
      const line = formatAccessLine('info', hostile);
      expect(line.split('\n')).toHaveLength(2);
      expect(JSON.parse(line)).toMatchObject({ [key]: hostile[key], level: 'info' });
    }
  });

  it('should write non-finite numbers as null rather than invalid JSON', () => {
    const parsed = JSON.parse(formatAccessLine('info', { ...record, durationMs: NaN })) as Record<
      string,
      unknown
    >;
    expect(parsed.durationMs).toBeNull();
  });
});
