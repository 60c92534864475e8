import { buildRoutesFromEntries } from '../config/load-config';
import { routeToFileEntry } from './route-entries';

describe('routeToFileEntry', () => {
  it('should give back an entry that builds the same route (round trip)', () => {
    const entries = [
      {
        name: 'shop',
        host: '*.Example.com',
        prefix: '/shop',
        target_url: 'http://10.0.0.5:8080/base',
        targets: ['10.0.0.6:8080'],
        weights: [3, 1],
        strip_prefix: true,
        require_auth: true,
        timeout_secs: 7,
        health_path: '/healthz',
        preserve_host: true,
        algorithm: 'ip-hash',
        rate_limit: { rate: 0.5 },
        max_body_size: 1024,
        cache: { ttl: '1m30s', allow_set_cookie: true },
        failure_statuses: [500, 429],
        security_headers: { content_security_policy: false, x_frame_options: 'SAMEORIGIN' },
      },
      { prefix: '/plain', target_url: 'http://10.0.0.7' },
    ];
    const first = buildRoutesFromEntries(entries, 30_000);
    if (!first.ok) {
      throw new Error(first.problems.join('; '));
    }
    const back = first.routes.map((r) => routeToFileEntry(r, 30_000));
    const second = buildRoutesFromEntries(back, 30_000);
    if (!second.ok) {
      throw new Error(second.problems.join('; '));
    }
    expect(second.routes).toEqual(first.routes);
    expect(first.routes[0].failureStatuses).toEqual([500, 429]);
    expect(back[1]).toEqual({
      name: 'plain',
      prefix: '/plain',
      target_url: 'http://10.0.0.7',
      strip_prefix: false,
      require_auth: false,
      preserve_host: false,
    });
  });

  it("should write an upstream's own failure_statuses in the object form of targets", () => {
    const entries = [
      {
        name: 'mixed',
        prefix: '/',
        target_url: 'http://10.0.0.5',
        targets: [{ url: 'http://10.0.0.6', failure_statuses: [500] }],
        weights: [1, 4],
      },
    ];
    const first = buildRoutesFromEntries(entries, 30_000);
    if (!first.ok) {
      throw new Error(first.problems.join('; '));
    }
    const back = routeToFileEntry(first.routes[0], 30_000);
    expect(back).toMatchObject({
      targets: ['http://10.0.0.5', { url: 'http://10.0.0.6', failure_statuses: [500] }],
      weights: [1, 4],
    });
    expect(back.target_url).toBeUndefined();
    const second = buildRoutesFromEntries([back], 30_000);
    expect(second.ok && second.routes).toEqual(first.routes);
  });
});

describe('buildRoutesFromEntries', () => {
  it('should report every problem with its field, like the config file', () => {
    const built = buildRoutesFromEntries(
      [
        { name: 'a', prefix: 'x', target_url: 'ftp://h', bogus: 1 },
        { name: 'b', prefix: '/b', target_url: 'http://h' },
        { name: 'c', prefix: '/b', target_url: 'http://h' },
        'nope',
      ],
      30_000,
      'body',
    );
    expect(built.ok).toBe(false);
    const problems = built.ok ? [] : built.problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^body\[0\]\.bogus: unknown key/),
        expect.stringMatching(/^body\[0\]\.prefix: invalid prefix/),
        expect.stringMatching(/^body\[0\]\.target_url: /),
        expect.stringMatching(/^routes: "b" and "c" both match host "\*" prefix "\/b"/),
        'body[3]: expected a JSON object',
      ]),
    );
  });
});
