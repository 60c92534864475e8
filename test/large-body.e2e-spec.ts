import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { peakRssMiB, spawnGateway, type GatewayProcess } from './fixtures/process';
import { startUpstream, type TestUpstream } from './fixtures/upstream';

const GiB = 1024 * 1024 * 1024;
const CHUNK = 256 * 1024;

/** Deterministic, non-repeating-per-chunk content so a reordered or dropped chunk changes the hash. */
function chunkAt(i: number): Buffer {
  const b = Buffer.allocUnsafe(CHUNK);
  b.fill(i & 255);
  b.writeUInt32BE(i, 0);
  return b;
}

function expectedHash(total: number): string {
  const h = createHash('sha256');
  for (let i = 0; i * CHUNK < total; i++) {
    h.update(chunkAt(i));
  }
  return h.digest('hex');
}

describe('1 GiB bodies stream through with bounded memory (e2e)', () => {
  let up: TestUpstream;
  let gw: GatewayProcess;
  const want = expectedHash(GiB);

  beforeAll(async () => {
    up = await startUpstream(
      (req, res) => {
        if (req.url === '/upload') {
          const h = createHash('sha256');
          let n = 0;
          req.on('data', (c: Buffer) => {
            h.update(c);
            n += c.length;
          });
          req.on('end', () => res.end(JSON.stringify({ sha: h.digest('hex'), length: n })));
          return;
        }
        res.writeHead(200, {
          'content-length': String(GiB),
          'content-type': 'application/octet-stream',
        });
        let i = 0;
        const pump = (): void => {
          while (i * CHUNK < GiB) {
            if (!res.write(chunkAt(i++))) {
              res.once('drain', pump);
              return;
            }
          }
          res.end();
        };
        pump();
      },
      { streaming: true },
    );
    gw = await spawnGateway({
      SERVICE_ROUTES: JSON.stringify([
        { name: 'big', prefix: '/', target_url: up.url, timeout_secs: 60 },
      ]),
      LOG_LEVEL: 'warn',
      // The default 10 MiB body limit would (rightly) refuse the upload.
      MAX_BODY_SIZE: String(2 * GiB),
    });
  });

  afterAll(async () => {
    await gw.stop();
    await up.close();
  });

  it('should pass a 1 GiB upload byte-exact', async () => {
    const result = await new Promise<{ sha: string; length: number }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: gw.port,
          path: '/upload',
          method: 'POST',
          agent: false,
          headers: { 'content-length': String(GiB), 'content-type': 'application/octet-stream' },
        },
        (res) => {
          let data = '';
          res.on('data', (c: Buffer) => (data += c.toString()));
          res.on('end', () => resolve(JSON.parse(data) as { sha: string; length: number }));
        },
      );
      req.on('error', reject);
      let i = 0;
      const pump = (): void => {
        while (i * CHUNK < GiB) {
          if (!req.write(chunkAt(i++))) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    });
    expect(result.length).toBe(GiB);
    expect(result.sha).toBe(want);
  }, 120_000);

  it('should pass a 1 GiB download byte-exact', async () => {
    const result = await new Promise<{ sha: string; length: number }>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: gw.port, path: '/download', agent: false },
        (res) => {
          const h = createHash('sha256');
          let n = 0;
          res.on('data', (c: Buffer) => {
            h.update(c);
            n += c.length;
          });
          res.on('end', () => resolve({ sha: h.digest('hex'), length: n }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(result.length).toBe(GiB);
    expect(result.sha).toBe(want);
  }, 120_000);

  it('should have kept the gateway under 200 MB RSS the whole time', () => {
    const peak = peakRssMiB(gw.child.pid!);
    // Printed so the figure can be quoted; asserted against the bound.
    process.stdout.write(`gateway peak RSS during 1 GiB transfers: ${peak.toFixed(1)} MiB\n`);
    expect(peak).toBeLessThan(200);
  });
});
