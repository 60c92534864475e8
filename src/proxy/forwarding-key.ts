import type { IncomingHttpHeaders } from 'node:http';
import { METHOD_OVERRIDE_HEADERS, URL_SHAPING_HEADERS } from '../common/http/forwarding-headers';

/**
 * Which known forwarding headers reach the upstream, by client kind, compiled once: those a
 * trusted proxy sends, and those STRIP_CLIENT_HEADERS lets through from any client.
 */
export interface ForwardingKeyRules {
  /** URL-shaping headers passed on: keyed. */
  readonly keyedTrusted: ReadonlySet<string>;
  readonly keyedUntrusted: ReadonlySet<string>;
  /** Method overrides passed on: the answer is never cached. */
  readonly bypassTrusted: ReadonlySet<string>;
  readonly bypassUntrusted: ReadonlySet<string>;
}

export function compileForwardingKeyRules(stripUntrusted: readonly string[]): ForwardingKeyRules {
  const stripped = new Set(stripUntrusted);
  const passed = (names: readonly string[]) => new Set(names.filter((n) => !stripped.has(n)));
  return {
    keyedTrusted: new Set(URL_SHAPING_HEADERS),
    keyedUntrusted: passed(URL_SHAPING_HEADERS),
    bypassTrusted: new Set(METHOD_OVERRIDE_HEADERS),
    bypassUntrusted: passed(METHOD_OVERRIDE_HEADERS),
  };
}

/**
 * The cache-key fields for the URL-shaping forwarding headers that go upstream with this request
 * (` f<name length>:<name><value length>:<value>`, in a fixed order), `''` when none does, or
 * undefined when a method override goes upstream: the answer to a GET that an application runs
 * as a DELETE must not be stored. Nothing to look at (the default for clients outside
 * TRUSTED_PROXIES) costs nothing.
 */
export function forwardingKeyFields(
  headers: IncomingHttpHeaders,
  trusted: boolean,
  rules: ForwardingKeyRules,
): string | undefined {
  const keyed = trusted ? rules.keyedTrusted : rules.keyedUntrusted;
  const bypass = trusted ? rules.bypassTrusted : rules.bypassUntrusted;
  if (keyed.size === 0 && bypass.size === 0) {
    return '';
  }
  for (const name of bypass) {
    if (headers[name] !== undefined) {
      return undefined;
    }
  }
  let fields = '';
  for (const name of keyed) {
    const raw = headers[name];
    if (raw !== undefined) {
      const value = Array.isArray(raw) ? raw.join(', ') : raw;
      fields += ` f${name.length}:${name}${value.length}:${value}`;
    }
  }
  return fields;
}
