import { Script } from 'node:vm';
import { buildMonitorAssets, MONITOR_CSP, monitorHeaders } from './monitor-assets';

describe('monitor assets', () => {
  const assets = buildMonitorAssets();
  const html = assets.page.body.toString('utf8');

  it('should have no inline script, inline style, style attribute or event handler in the page', () => {
    // Every <script> has a src and no body.
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/\bsrc="\/monitor\//);
      expect(body.trim()).toBe('');
    }
    expect(html).not.toMatch(/<style\b/i);
    expect(html).not.toMatch(/\sstyle\s*=/i);
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    expect(html).not.toMatch(/javascript:/i);
  });

  it('should reference only same-origin /monitor/ assets, each versioned by its content hash', () => {
    const refs = [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(refs).toHaveLength(3);
    for (const ref of refs) {
      const m = /^\/monitor\/([a-z.]+)\?v=([A-Za-z0-9_-]{12})$/.exec(ref);
      expect(m).not.toBeNull();
      const [, name, version] = m as RegExpExecArray;
      const a = assets.byName.get(name);
      expect(a).toBeDefined();
      expect(a?.etag).toBe(`"${version}${a?.etag.slice(13, -1)}"`);
      expect(a?.cacheControl).toContain('immutable');
    }
    expect(html).not.toContain('{{');
    expect(assets.page.cacheControl).toBe('no-cache');
  });

  it('should ship a script that parses and never uses innerHTML', () => {
    const js = assets.byName.get('monitor.js')?.body.toString('utf8') ?? '';
    expect(() => new Script(js)).not.toThrow();
    expect(js).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
    expect(js).toContain("'/api/system-metrics'");
  });

  it('should give every id the script writes an element in the page', () => {
    const js = assets.byName.get('monitor.js')?.body.toString('utf8') ?? '';
    const ids = new Set(
      [...js.matchAll(/(?:setText|setMeter|sparkline|fillTable)\(\s*'([a-z0-9-]+)'/g)].map(
        (m) => m[1],
      ),
    );
    expect(ids.size).toBeGreaterThan(30);
    for (const id of ids) {
      expect(html).toContain(`id="${id}"`);
    }
  });

  it('should keep the page CSP at least as strict as the gateway default', () => {
    expect(MONITOR_CSP).toContain("default-src 'none'");
    expect(MONITOR_CSP).not.toMatch(/unsafe|\*|https?:|data:/);
    expect(MONITOR_CSP).toContain("frame-ancestors 'none'");
  });

  it('should send CSP and nosniff always, and the other security headers only when enabled', () => {
    const on = monitorHeaders(true);
    const off = monitorHeaders(false);
    const names = (h: readonly string[]) => h.filter((_, i) => i % 2 === 0);
    expect(names(off)).toEqual(['content-security-policy', 'x-content-type-options']);
    expect(names(on)).toEqual(
      expect.arrayContaining(['content-security-policy', 'x-frame-options', 'referrer-policy']),
    );
    // No duplicate CSP next to the page's own.
    expect(names(on).filter((n) => n === 'content-security-policy')).toHaveLength(1);
  });
});
