import { isIPv6 } from 'node:net';

/**
 * Normalises a Host header or a configured host pattern the way the Go gateway did: lower-case,
 * no port, no IPv6 brackets, no trailing dot. One function for both, so a pattern and the requests
 * it should match can never be normalised differently. Allocation-free for the common case of an
 * already-normal host without a port (it runs on every request).
 */
export function normalizeHost(raw: string | undefined): string {
  if (!raw) {
    return '';
  }
  let host = raw.trim();
  if (host.charCodeAt(0) === 91 /* [ */) {
    const end = host.indexOf(']');
    host = end === -1 ? host.slice(1) : host.slice(1, end);
  } else {
    const colon = host.indexOf(':');
    // More than one colon without brackets is a bare IPv6 literal, not host:port.
    if (colon !== -1 && host.indexOf(':', colon + 1) === -1) {
      host = host.slice(0, colon);
    }
  }
  if (host.endsWith('.')) {
    host = host.slice(0, -1);
  }
  return host.toLowerCase();
}

/** `a-z 0-9 - . _ ~`: the unreserved characters of RFC 3986 §2.3, lower-case. */
function isNormalNameChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2d ||
    c === 0x2e ||
    c === 0x5f ||
    c === 0x7e
  );
}

/**
 * Validates an authority (a `Host` header, the authority of an absolute-form request target, a
 * trusted proxy's `X-Forwarded-Host`) as RFC 3986 `host [ ":" port ]` and returns its one
 * normal spelling, or undefined when it is not one:
 *
 * - host: a name of unreserved characters (letters, digits, `-`, `.`, `_`, `~`) with no empty
 *   label, or an IPv4 address, or an IPv6 address in brackets. Percent-encoding and the RFC's
 *   sub-delimiters (`!$&'()*+,;=`) are refused: no DNS name or certificate contains them, and a
 *   name with two spellings (`ex%61mple`) is how caches and routers get confused. So are
 *   userinfo (`user@`), paths, spaces, control and non-ASCII bytes, IPv6 zone ids and IPvFuture;
 * - port: decimal digits, 1-65535. An empty port (`host:`) and the scheme's default port are
 *   dropped and leading zeros removed (RFC 3986 §6.2.3), so `Example.COM.:080` on plain HTTP is
 *   `example.com`;
 * - the name is lower-cased and one trailing dot (a fully qualified name) removed.
 *
 * An already-normal authority (a lower-case name, with or without a normal port: the
 * overwhelming case) is returned as it is, without allocating.
 */
export function normalizeAuthority(raw: string, defaultPort: number): string | undefined {
  const n = raw.length;
  let i = 0;
  let prev = 0x2e; /* . so a leading dot counts as an empty label */
  for (; i < n; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x3a /* : */) {
      break;
    }
    if (!isNormalNameChar(c) || (c === 0x2e && prev === 0x2e)) {
      return slowAuthority(raw, defaultPort);
    }
    prev = c;
  }
  if (prev === 0x2e) {
    // Empty, a leading or doubled dot, or a trailing dot to drop.
    return slowAuthority(raw, defaultPort);
  }
  if (i === n) {
    return raw;
  }
  // `name:port` as clients send it to a gateway on a non-default port: also returned as it is
  // when the port is already normal (1-65535, no leading zero, not the scheme's default).
  const digits = n - i - 1;
  if (digits < 1 || digits > 5 || raw.charCodeAt(i + 1) === 0x30 /* 0 */) {
    return slowAuthority(raw, defaultPort);
  }
  let port = 0;
  for (let j = i + 1; j < n; j++) {
    const c = raw.charCodeAt(j);
    if (c < 0x30 || c > 0x39) {
      return slowAuthority(raw, defaultPort);
    }
    port = port * 10 + (c - 0x30);
  }
  return port > 65535 || port === defaultPort ? slowAuthority(raw, defaultPort) : raw;
}

function slowAuthority(raw: string, defaultPort: number): string | undefined {
  let host: string;
  let rest: string;
  if (raw.charCodeAt(0) === 0x5b /* [ */) {
    const end = raw.indexOf(']');
    if (end === -1) {
      return undefined;
    }
    const literal = raw.slice(1, end);
    // Zone ids (`%25eth0`) name an interface of the client's machine, never of this one.
    if (literal.includes('%') || !isIPv6(literal)) {
      return undefined;
    }
    // The URL parser prints the RFC 5952 form: one spelling per address.
    host = new URL(`http://[${literal}]/`).hostname;
    rest = raw.slice(end + 1);
    if (rest !== '' && rest.charCodeAt(0) !== 0x3a /* : */) {
      return undefined;
    }
  } else {
    const colon = raw.indexOf(':');
    host = (colon === -1 ? raw : raw.slice(0, colon)).toLowerCase();
    rest = colon === -1 ? '' : raw.slice(colon);
    if (host.endsWith('.')) {
      host = host.slice(0, -1);
    }
    if (host === '') {
      return undefined;
    }
    let prev = 0x2e;
    for (let i = 0; i < host.length; i++) {
      const c = host.charCodeAt(i);
      if (!isNormalNameChar(c) || (c === 0x2e && prev === 0x2e)) {
        return undefined;
      }
      prev = c;
    }
    if (prev === 0x2e) {
      return undefined;
    }
  }
  if (rest === '' || rest === ':') {
    return host;
  }
  const digits = rest.slice(1);
  if (!/^[0-9]+$/.test(digits)) {
    return undefined;
  }
  const port = Number(digits);
  if (port < 1 || port > 65535) {
    return undefined;
  }
  return port === defaultPort ? host : `${host}:${port}`;
}
