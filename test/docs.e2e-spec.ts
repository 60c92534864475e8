import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { DOCS_CSP } from '../src/admin/admin-http';
import { startGateway, testConfig, type TestGateway } from './fixtures/gateway';
import { send } from './fixtures/http';
import { startUpstream, type TestUpstream } from './fixtures/upstream';

const TOKEN = 'docs-test-admin-token-0123456789abcdef';

/** Every admin operation, as `METHOD path` in the OpenAPI document. */
const ADMIN_OPERATIONS = [
  'get /admin/routes',
  'post /admin/routes',
  'put /admin/routes/{name}',
  'delete /admin/routes/{name}',
  'get /admin/upstreams',
  'post /admin/upstreams/drain',
  'post /admin/upstreams/enable',
  'post /admin/upstreams/reset-breaker',
  'get /admin/whitelist',
  'post /admin/whitelist',
  'delete /admin/whitelist',
  'get /admin/blacklist',
  'post /admin/blacklist',
  'delete /admin/blacklist',
  'get /admin/blocks',
  'post /admin/blocks',
  'delete /admin/blocks/{ip}',
  'get /admin/api-keys',
  'post /admin/api-keys',
  'delete /admin/api-keys/{id}',
  'post /admin/cache/purge',
  'get /admin/cache/stats',
  'get /admin/config',
  'post /admin/config/reload',
];

interface OpenApiDoc {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      { security?: unknown[]; responses: Record<string, unknown>; requestBody?: unknown }
    >
  >;
  components: { securitySchemes: Record<string, { type: string; scheme?: string }> };
}

describe('Swagger UI and the OpenAPI document (e2e)', () => {
  let gw: TestGateway;
  let up: TestUpstream;

  beforeAll(async () => {
    up = await startUpstream();
    gw = await startGateway(
      testConfig([{ name: 'api', prefix: '/', upstreams: [up.url] }], { admin: { token: TOKEN } }),
    );
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  it('should document every admin operation with the bearer scheme, schemas and errors', async () => {
    const res = await send(gw.url, '/docs-json');
    expect(res.status).toBe(200);
    const doc = res.json<OpenApiDoc>();
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.components.securitySchemes['admin-token']).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m} ${path}`),
    );
    expect(operations).toEqual(expect.arrayContaining(ADMIN_OPERATIONS));
    for (const op of ADMIN_OPERATIONS) {
      const [method, path] = op.split(' ');
      const operation = doc.paths[path][method];
      expect([op, operation.security]).toEqual([
        op,
        expect.arrayContaining([{ 'admin-token': [] }]),
      ]);
      expect([op, Object.keys(operation.responses)]).toEqual([
        op,
        expect.arrayContaining(['401', '429']),
      ]);
    }
    expect(doc.paths['/admin/routes'].post.requestBody).toMatchObject({
      content: { 'application/json': { schema: { type: 'object', additionalProperties: false } } },
    });
    // The proxy's catch-all is not part of the management API.
    expect(Object.keys(doc.paths).some((p) => p.includes('*'))).toBe(false);
  });

  it('should serve the UI from local assets with a CSP that allows nothing external', async () => {
    const page = await send(gw.url, '/docs');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toBe(DOCS_CSP);
    expect(page.text).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
    const bundle = await send(gw.url, '/docs/swagger-ui-bundle.js');
    expect(bundle.status).toBe(200);
    expect(bundle.headers['content-type']).toMatch(/javascript/);
    const init = await send(gw.url, '/docs/swagger-ui-init.js');
    expect(init.text).toContain('"validatorUrl": null');
    expect((await send(gw.url, '/docs/package.json')).status).toBe(404);
    // Only the JSON document is published (/docs-yaml is an ordinary, proxied path).
    expect((await send(gw.url, '/docs-yaml')).text).not.toContain('openapi:');
  });

  it('should list the admin operations in headless Chromium, and "Try it out" should work', async () => {
    const profile = mkdtempSync(join(tmpdir(), 'gw-docs-chromium-'));
    let context: BrowserContext | undefined;
    const cspErrors: string[] = [];
    const external: string[] = [];
    try {
      context = await chromium.launchPersistentContext(profile, {
        executablePath: '/usr/bin/chromium',
        headless: true,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
        viewport: { width: 1280, height: 2000 },
      });
      const page = await context.newPage();
      page.on('console', (msg) => {
        if (/Content Security Policy/i.test(msg.text())) {
          cspErrors.push(msg.text());
        }
      });
      page.on('request', (req) => {
        if (!req.url().startsWith(gw.url) && !req.url().startsWith('data:')) {
          external.push(req.url());
        }
      });
      await page.goto(`${gw.url}/docs`, { waitUntil: 'load', timeout: 30_000 });
      await page.waitForSelector('.opblock-summary-path', { timeout: 30_000 });
      const paths: string[] = [];
      for (const el of await page.locator('.opblock-summary-path').all()) {
        paths.push((await el.getAttribute('data-path')) ?? '');
      }
      for (const path of [
        '/admin/routes',
        '/admin/whitelist',
        '/admin/blacklist',
        '/admin/api-keys',
        '/admin/upstreams/drain',
      ]) {
        expect(paths).toContain(path);
      }

      // Authorize with the admin token, then run GET /admin/routes from the page.
      await page.click('button.authorize');
      await page.fill(
        '.auth-container input[type=text], .auth-container input[type=password]',
        TOKEN,
      );
      await page.click('.auth-btn-wrapper button.authorize');
      await page.click('button.btn-done');
      const operation = page.locator('#operations-Routes-RoutesController_list');
      await operation.locator('.opblock-summary').click();
      // "Try it out" is on from the start (tryItOutEnabled): Execute is there at once.
      await operation.locator('button.execute').click();
      const status = operation.locator('.live-responses-table tbody .response-col_status').first();
      await status.waitFor({ timeout: 30_000 });
      expect((await status.textContent())?.trim()).toBe('200');
      await expect(
        operation.locator('.live-responses-table .microlight').first().textContent(),
      ).resolves.toContain('"name": "api"');

      mkdirSync(join(__dirname, 'artifacts'), { recursive: true });
      await page.screenshot({ path: join(__dirname, 'artifacts', 'docs.png'), fullPage: false });
      expect(cspErrors).toEqual([]);
      expect(external).toEqual([]);
    } finally {
      await context?.close();
      rmSync(profile, { recursive: true, force: true });
    }
  }, 120_000);
});
