import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, testConfig, type TestGateway } from './fixtures/gateway';
import { connect } from 'node:net';
import { send, sleep } from './fixtures/http';
import { freePort } from './fixtures/process';
import { startUpstream, type TestUpstream } from './fixtures/upstream';

/**
 * The Kubernetes manifests put the gateway behind an ingress-nginx controller and trust it
 * (`TRUSTED_PROXIES: 10.0.0.0/8`). With its defaults the controller sends the client's raw Host
 * header as X-Forwarded-Host (`$best_http_host` is `$http_host`) plus a handful of forwarding
 * headers of its own. Here a real nginx with the same `proxy_set_header` lines as the
 * controller's template stands in for it, trusted the same way.
 */
function ingressConf(dir: string, listen: number, gateway: number): string {
  return `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  map $http_host $best_http_host { default $http_host; '' $host; }
  server {
    listen 127.0.0.1:${listen};
    server_name api.example.com;
    location / {
      proxy_pass http://127.0.0.1:${gateway};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $best_http_host;
      proxy_set_header X-Request-ID $request_id;
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Host $best_http_host;
      proxy_set_header X-Forwarded-Port $server_port;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Scheme $scheme;
      proxy_set_header X-Scheme $scheme;
      proxy_set_header X-Original-Forwarded-For $http_x_forwarded_for;
    }
  }
}
`;
}

/** Resolves once something accepts connections on the port (bounded). */
async function listening(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) {
      return;
    }
    await sleep(50);
  }
  throw new Error(`nothing listening on ${port}`);
}

/** Builds links from what it is told, and lets shared caches keep them for a minute. */
function linker(req: IncomingMessage, res: ServerResponse): void {
  const host = String(req.headers['x-forwarded-host'] ?? req.headers.host);
  res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'public, max-age=60' });
  res.end(`http://${host}/next`);
}

describe('behind an ingress-nginx controller it trusts (e2e, real nginx)', () => {
  let app: TestUpstream;
  let gw: TestGateway;
  let nginx: ChildProcess;
  let dir: string;
  let ingress: string;

  beforeAll(async () => {
    app = await startUpstream(linker);
    const base = testConfig([]);
    gw = await startGateway(
      testConfig(
        [
          {
            name: 'api',
            prefix: '/',
            upstreams: [app.url],
            cache: { enabled: true, allowSetCookie: false },
          },
        ],
        {
          cache: { ...base.cache, enabled: true, compression: false, ttlMs: 60_000 },
          proxy: { ...base.proxy, trustedProxies: ['127.0.0.1/32'] },
        },
      ),
    );
    dir = mkdtempSync(join(tmpdir(), 'ingress-'));
    const port = await freePort();
    const conf = join(dir, 'nginx.conf');
    writeFileSync(conf, ingressConf(dir, port, gw.port));
    nginx = spawn(
      'nginx',
      ['-e', join(dir, 'error.log'), '-p', dir, '-c', conf, '-g', 'daemon off;'],
      {
        stdio: 'ignore',
      },
    );
    ingress = `http://127.0.0.1:${port}`;
    await listening(port);
  });

  afterAll(async () => {
    nginx.kill('SIGTERM');
    await new Promise((r) => nginx.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
    await gw.close();
    await app.close();
  });

  it('should refuse a Host the ingress passes on raw as X-Forwarded-Host', async () => {
    const before = app.requests.length;
    const r = await send(ingress, '/page', { headers: { host: 'api.example.com:@evil.example' } });
    expect(r.status).toBe(400);
    expect(app.requests.length).toBe(before);
  });

  it('should key on the forwarded port, so a :1337 link never reaches other clients', async () => {
    const odd = await send(ingress, '/page/a', { headers: { host: 'api.example.com:1337' } });
    expect(odd.text).toBe('http://api.example.com:1337/next');
    const normal = await send(ingress, '/page/a', { headers: { host: 'api.example.com' } });
    expect(normal.text).toBe('http://api.example.com/next');
  });

  it("should still cache normal traffic through the ingress's own forwarding headers", async () => {
    const first = await send(ingress, '/page/b', { headers: { host: 'api.example.com' } });
    const seen = app.requests.at(-1)!.headers;
    // The controller's own headers arrive (trusted), the per-client ones are not keyed.
    expect(seen['x-forwarded-scheme']).toBe('http');
    expect(seen['x-forwarded-port']).toBeUndefined();
    const second = await send(ingress, '/page/b', {
      headers: { host: 'api.example.com', 'x-forwarded-for': '198.51.100.9' },
    });
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.text).toBe(first.text);
  });
});
