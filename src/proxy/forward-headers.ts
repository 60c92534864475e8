import type { IncomingHttpHeaders } from 'node:http';
import { fillSecurityHeaders, type SecurityHeaderSet } from '../security/headers/security-headers';
import { HOP_BY_HOP } from '../common/http/hop-by-hop';
import { listsHeader } from '../common/http/header-list';

/** Headers the gateway owns on the way upstream; a client's copies are never trusted blindly. */
const GATEWAY_SET = new Set([
  'host',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-real-ip',
  'forwarded',
  'x-request-id',
  // undici refuses `expect`; Node already answered `100 Continue` to the client.
  'expect',
]);

export interface ForwardContext {
  /** `Host` to send upstream. */
  host: string;
  /**
   * `X-Forwarded-Host`: the validated authority the client asked for (or a trusted proxy's,
   * validated the same way); `''` sends none (HTTP/1.0 without Host).
   */
  forwardedHost: string;
  /** Normalised socket peer. */
  peer: string;
  /** Resolved client IP (see ClientIpResolver). */
  clientIp: string;
  /** Peer is a trusted proxy, so its forwarding headers are kept and extended. */
  peerTrusted: boolean;
  /** `http` or `https`: our socket's, or a trusted proxy's word for it (the cache keys on it). */
  proto: string;
  requestId: string;
}

/** Names listed in `Connection`, which are hop-by-hop for this message only. */
function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  // The overwhelmingly common values name no other header.
  if (value === undefined || value === 'keep-alive' || value === 'close') {
    return undefined;
  }
  const raw = Array.isArray(value) ? value.join(',') : value;
  let tokens: Set<string> | undefined;
  for (const part of raw.split(',')) {
    const name = part.trim().toLowerCase();
    if (name !== '' && name !== 'close' && name !== 'keep-alive') {
      (tokens ??= new Set()).add(name);
    }
  }
  return tokens;
}

/**
 * Builds the header object sent upstream from the client's parsed headers. Pure, so every rule is
 * unit-tested; the Connection-listed names are removed before the gateway adds its own headers,
 * so a client can never strip what the gateway sets (fastify-reply-from does the same).
 */
export function buildUpstreamHeaders(
  incoming: IncomingHttpHeaders,
  ctx: ForwardContext,
  strip?: ReadonlySet<string>,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const listed = connectionTokens(incoming.connection);
  for (const name in incoming) {
    if (HOP_BY_HOP.has(name) || GATEWAY_SET.has(name) || listed?.has(name) || strip?.has(name)) {
      continue;
    }
    const value = incoming[name];
    if (value !== undefined) {
      out[name] = value;
    }
  }
  const te = incoming.te;
  if (typeof te === 'string' && te.toLowerCase().includes('trailers') && !listed?.has('te')) {
    out.te = 'trailers';
  }
  out.host = ctx.host;
  const priorXff = incoming['x-forwarded-for'];
  if (ctx.peerTrusted && priorXff !== undefined) {
    const prior = Array.isArray(priorXff) ? priorXff.join(', ') : priorXff;
    out['x-forwarded-for'] = prior === '' ? ctx.peer : `${prior}, ${ctx.peer}`;
  } else {
    out['x-forwarded-for'] = ctx.peer;
  }
  // Exactly the values the request was resolved, routed and cached by: never a raw header.
  if (ctx.forwardedHost !== '') {
    out['x-forwarded-host'] = ctx.forwardedHost;
  }
  out['x-forwarded-proto'] = ctx.proto;
  if (ctx.peerTrusted && incoming.forwarded !== undefined) {
    out.forwarded = incoming.forwarded;
  }
  out['x-real-ip'] = ctx.clientIp;
  out['x-request-id'] = ctx.requestId;
  return out;
}

/** What the gateway adds to every proxied response, compiled once at boot. */
export interface ResponseHeaderPolicy {
  security: SecurityHeaderSet;
  /** `SERVER_TIMING`: add `Server-Timing` and `X-Gateway-Latency` to proxied responses. */
  serverTiming?: boolean;
}

/**
 * Filters an upstream response's raw header list (undici gives Buffers) into the flat
 * `[name, value, …]` array `ServerResponse.writeHead` accepts:
 * - hop-by-hop headers and the ones `Connection` names are dropped (`Trailer` is kept: the
 *   gateway relays trailers);
 * - the upstream's `x-request-id` is replaced by ours, so a request is traced end to end;
 * - `extra` headers decided by the gateway (CORS, RateLimit; lower-case names) replace upstream
 *   headers of the same name, except `Vary`, which is merged so the upstream's own variants
 *   survive;
 * - security headers fill in only what the upstream did not set.
 */
export function filterResponseHeaders(
  raw: Buffer[],
  requestId: string,
  policy: ResponseHeaderPolicy,
  tls: boolean,
  extra?: readonly string[],
): string[] {
  const out: string[] = [];
  const securityNames = policy.security.names;
  let listed: Set<string> | undefined;
  let present: Set<string> | undefined;
  let upstreamVary: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toString('latin1');
    const lower = name.toLowerCase();
    if (lower === 'connection') {
      listed = connectionTokens(raw[i + 1].toString('latin1'));
      continue;
    }
    if ((lower !== 'trailer' && HOP_BY_HOP.has(lower)) || lower === 'x-request-id') {
      continue;
    }
    if (extra !== undefined && listsHeader(extra, lower)) {
      if (lower === 'vary') {
        upstreamVary = upstreamVary
          ? `${upstreamVary}, ${raw[i + 1].toString('latin1')}`
          : raw[i + 1].toString('latin1');
      }
      continue;
    }
    if (securityNames.has(lower)) {
      (present ??= new Set()).add(lower);
    }
    out.push(name, raw[i + 1].toString('latin1'));
  }
  if (listed) {
    for (let i = out.length - 2; i >= 0; i -= 2) {
      if (listed.has(out[i].toLowerCase())) {
        out.splice(i, 2);
      }
    }
  }
  if (extra) {
    for (let i = 0; i < extra.length; i += 2) {
      if (upstreamVary !== undefined && extra[i] === 'vary') {
        out.push('vary', `${upstreamVary}, ${extra[i + 1]}`);
      } else {
        out.push(extra[i], extra[i + 1]);
      }
    }
  }
  fillSecurityHeaders(out, present, tls ? policy.security.tls : policy.security.plain);
  out.push('x-request-id', requestId);
  return out;
}
