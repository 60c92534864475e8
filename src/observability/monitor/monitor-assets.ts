import { createHash } from 'node:crypto';
import { BASE_SECURITY_HEADERS } from '../../security/headers/security-headers';
import { MONITOR_HTML } from './assets/monitor-html';
import { MONITOR_ICON_SVG } from './assets/monitor-icon';
import { MONITOR_JS } from './assets/monitor-script';
import { MONITOR_CSS } from './assets/monitor-style';

/**
 * The page's own policy: stricter than the gateway's `default-src 'self'` (nothing but its own
 * script, stylesheet, icon and the metrics fetch), so it keeps working whatever the gateway-wide
 * CSP is, as long as that allows same-origin assets.
 */
export const MONITOR_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export interface MonitorAsset {
  readonly body: Buffer;
  readonly contentType: string;
  /** Strong validator: a hash of the body. */
  readonly etag: string;
  readonly cacheControl: string;
}

export interface MonitorAssets {
  readonly page: MonitorAsset;
  /** Assets under `/monitor/<name>`. */
  readonly byName: ReadonlyMap<string, MonitorAsset>;
}

const IMMUTABLE = 'public, max-age=31536000, immutable';

function asset(text: string, contentType: string, cacheControl: string): MonitorAsset {
  const body = Buffer.from(text, 'utf8');
  const hash = createHash('sha256').update(body).digest('base64url').slice(0, 16);
  return { body, contentType, etag: `"${hash}"`, cacheControl };
}

const versioned = (name: string, a: MonitorAsset): string =>
  `/monitor/${name}?v=${a.etag.slice(1, 13)}`;

/**
 * Built once at boot. Assets are TypeScript modules exporting strings, so the plain `tsc` build
 * carries them into dist/ with no copy step. Their URLs carry a content hash, so browsers may
 * cache them for a year and still never run a stale script after an upgrade; the page itself is
 * revalidated on every load.
 */
export function buildMonitorAssets(): MonitorAssets {
  const script = asset(MONITOR_JS, 'text/javascript; charset=utf-8', IMMUTABLE);
  const style = asset(MONITOR_CSS, 'text/css; charset=utf-8', IMMUTABLE);
  const icon = asset(MONITOR_ICON_SVG, 'image/svg+xml', IMMUTABLE);
  const html = MONITOR_HTML.replace('{{script}}', versioned('monitor.js', script))
    .replace('{{style}}', versioned('monitor.css', style))
    .replace('{{icon}}', versioned('favicon.svg', icon));
  return {
    page: asset(html, 'text/html; charset=utf-8', 'no-cache'),
    byName: new Map([
      ['monitor.js', script],
      ['monitor.css', style],
      ['favicon.svg', icon],
    ]),
  };
}

/**
 * Headers for the gateway's monitor responses as flat `[name, value, …]`: the page's CSP and
 * `nosniff` always (they only ever tighten what the page may do), plus the gateway's other
 * security headers when `SECURITY_HEADERS` is on.
 */
export function monitorHeaders(securityHeaders: boolean): readonly string[] {
  const out = ['content-security-policy', MONITOR_CSP, 'x-content-type-options', 'nosniff'];
  if (securityHeaders) {
    for (const [name, value] of BASE_SECURITY_HEADERS) {
      if (name !== 'content-security-policy' && name !== 'x-content-type-options') {
        out.push(name, value);
      }
    }
  }
  return out;
}
