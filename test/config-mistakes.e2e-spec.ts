import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { startGateway, testConfig, type TestGateway } from './fixtures/gateway';
import { rawExchange, send } from './fixtures/http';
import { spawnGateway } from './fixtures/process';
import { startUpstream, type TestUpstream } from './fixtures/upstream';

const run = promisify(execFile);
const CHECK = join(__dirname, '..', 'dist', 'config', 'config-check.js');

/** `npm run config:check -- <file>` as a user runs it: exit code, stdout and stderr. */
async function configCheck(
  file: string,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CHECK, basename(file)], {
      cwd: dirname(file),
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('configuration mistakes are caught (e2e)', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gw-mistakes-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const file = (name: string, routes: unknown[]): string => {
    const path = join(dir, name);
    writeFileSync(path, stringify({ routes }));
    return path;
  };

  it('should refuse URLs, paths, credentials, spaces and bad ports in host, saying what to write', async () => {
    const hosts = [
      'https://billing.example.com',
      'billing.example.com/api',
      'ops@billing.example.com',
      'billing example.com',
      'billing.example.com:99999',
      'billing.example.com:https',
    ];
    const path = file(
      'hosts.yaml',
      hosts.map((host, i) => ({ name: `r${i}`, host, target_url: 'http://10.0.0.1' })),
    );

    const { code, stderr } = await configCheck(path);

    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([
      'hosts.yaml: routes[0].host: "https://billing.example.com" is a URL; write the host alone: "billing.example.com" (the path goes in prefix)',
      'hosts.yaml: routes[1].host: "billing.example.com/api" has a path; write the host alone: "billing.example.com" (the path goes in prefix)',
      'hosts.yaml: routes[2].host: "ops@billing.example.com" contains credentials ("@"); write the host alone',
      'hosts.yaml: routes[3].host: "billing example.com" contains spaces',
      'hosts.yaml: routes[4].host: "billing.example.com:99999": port must be 1-65535, got 99999',
      'hosts.yaml: routes[5].host: "billing.example.com:https" has an invalid port "https"',
    ]);
    // A port in range is accepted (and ignored for matching, as in requests).
    const ok = await configCheck(
      file('port.yaml', [{ host: 'billing.example.com:8443', target_url: 'http://10.0.0.1' }]),
    );
    expect(ok).toMatchObject({ code: 0, stdout: 'OK: 1 routes\n' });
  });

  it('should report two routes whose prefixes differ only by a trailing slash', async () => {
    const path = file('slash.yaml', [
      { name: 'users', prefix: '/api/users', target_url: 'http://10.0.0.1' },
      { name: 'users-v2', prefix: '/api/users/', target_url: 'http://10.0.0.2' },
      {
        name: 'other-host',
        host: 'b.example.com',
        prefix: '/api/users/',
        target_url: 'http://10.0.0.2',
      },
    ]);

    const { code, stderr } = await configCheck(path);

    expect(code).toBe(1);
    expect(stderr).toBe(
      'routes: "users" (prefix "/api/users") and "users-v2" (prefix "/api/users/") on host "*" differ only by a trailing slash: /api/users would go to "users" and /api/users/x to "users-v2"; keep one ("/api/users" already covers /api/users/…)\n',
    );
  });

  it("should warn in config:check about a route for any host that shares the gateway's paths", async () => {
    const path = file('shadow.yaml', [
      { name: 'web', prefix: '/', target_url: 'http://10.0.0.1' },
      { name: 'billing', host: 'billing.example.com', prefix: '/', target_url: 'http://10.0.0.2' },
    ]);

    const { code, stderr } = await configCheck(path);

    expect(code).toBe(0);
    expect(stderr).toBe(
      'warning: route "web" (prefix "/", any host) shares /health*, /metrics, /stats, /monitor*, /api/system-metrics, /admin*, /docs*, /docs-json with the gateway, which answers them itself on hosts no host route claims; give the route a host to serve them from its upstream, or set ADMIN_PORT (the public port then keeps only /health/live and /health/ready)\n',
    );
  });

  it('should warn at startup and in config:check about misspelt variables, with the name meant', async () => {
    const path = file('plain.yaml', [{ prefix: '/', target_url: 'http://10.0.0.1' }]);
    const env = { ENABLE_CACHE: 'false', MAX_REQUEST_PER_SECOND: '5', GATEWAY_PROT: '8080' };

    const checked = await configCheck(path, env);
    expect(checked.code).toBe(0);
    expect(checked.stderr).toContain(
      'warning: ENABLE_CACHE is not a gateway setting and is ignored; did you mean ENABLE_CACHING?',
    );
    expect(checked.stderr).toContain('did you mean MAX_REQUESTS_PER_SECOND?');
    expect(checked.stderr).toContain(
      'GATEWAY_PROT is not a gateway setting and is ignored; did you mean GATEWAY_PORT?',
    );

    const gw = await spawnGateway({ ...env, DEMO_UPSTREAM: 'false' });
    try {
      const warnings = gw
        .stdout()
        .split('\n')
        .filter((line) => line.includes('is not a gateway setting'))
        .map((line) => JSON.parse(line) as { level: string; msg: string });
      expect(warnings.map((w) => [w.level, w.msg.split(' ')[0]])).toEqual([
        ['warn', 'ENABLE_CACHE'],
        ['warn', 'MAX_REQUEST_PER_SECOND'],
        ['warn', 'GATEWAY_PROT'],
      ]);
    } finally {
      await gw.stop();
    }
  });

  it('should refuse the same mistakes in a route sent to the admin API', async () => {
    const up = await startUpstream();
    const token = 'mistakes-admin-token-0123456789abcdef';
    const gw = await startGateway(
      testConfig([{ name: 'users', prefix: '/api/users', upstreams: [up.url] }], {
        admin: { token },
      }),
    );
    try {
      const post = (route: unknown) => {
        const body = JSON.stringify(route);
        return send(gw.url, '/admin/routes', {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(body)),
          },
          body,
        });
      };
      const url = await post({
        name: 'billing',
        host: 'https://billing.example.com',
        target_url: up.url,
      });
      expect(url.status).toBe(400);
      expect(url.json<{ details: unknown[] }>().details).toEqual([
        {
          field: 'body.host',
          message:
            '"https://billing.example.com" is a URL; write the host alone: "billing.example.com" (the path goes in prefix)',
        },
      ]);
      const slash = await post({ name: 'users2', prefix: '/api/users/', target_url: up.url });
      expect(slash.status).toBe(400);
      expect(slash.json<{ message: string }>().message).toContain(
        'differ only by a trailing slash',
      );
    } finally {
      await gw.close();
      await up.close();
    }
  });
});

describe('Upgrade offers other than WebSocket (e2e)', () => {
  let up: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    up = await startUpstream();
    gw = await startGateway(testConfig([{ prefix: '/', upstreams: [up.url] }]));
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  it('should answer `curl --http2` (Upgrade: h2c) over HTTP/1.1, as nginx does', async () => {
    const { stdout } = await run('curl', [
      '-sS',
      '--http2',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code} %{http_version}',
      `${gw.url}/h2c/first`,
    ]);

    expect(stdout).toBe('200 1.1');
    const seen = up.requests.at(-1)!;
    expect(seen.url).toBe('/h2c/first');
    // Nothing of the offer reaches the upstream.
    expect(seen.headers.upgrade).toBeUndefined();
    expect(seen.headers['http2-settings']).toBeUndefined();
  });

  it('should keep the connection and its body: a POST with an offer, then a keep-alive GET', async () => {
    const body = 'x'.repeat(1000);
    const answer = await rawExchange(
      gw.port,
      'POST /h2c/post HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade, HTTP2-Settings, keep-alive\r\n' +
        `Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\nContent-Length: ${body.length}\r\n\r\n${body}` +
        'GET /h2c/after HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n',
    );

    const statuses = [...answer.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]);
    expect(statuses).toEqual(['200', '200']);
    expect(answer).not.toContain('HTTP/1.1 101');
    const post = up.requests.find((r) => r.url === '/h2c/post')!;
    expect(post.body.toString()).toBe(body);
    expect(post.headers.connection).not.toMatch(/upgrade/i);
    expect(up.requests.some((r) => r.url === '/h2c/after')).toBe(true);
  });

  it("should serve the gateway's own paths the same way", async () => {
    const { stdout } = await run('curl', ['-sS', '--http2', `${gw.url}/health/live`]);
    expect(JSON.parse(stdout)).toEqual({ status: 'ok' });
  });
});
