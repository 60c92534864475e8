import type { IncomingHttpHeaders } from 'node:http';
import { fillSecurityHeaders, type SecurityHeaderSet } from '../security/headers/security-headers';
import { HOP_BY_HOP } from '../common/http/hop-by-hop';
import { CORS_PREFIX } from '../common/http/flat-headers';
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

/** How client request headers are filtered on the way upstream, compiled once at boot. */
export interface RequestHeaderPolicy {
  /** Dropped from every client: hop-by-hop, the gateway's own, claim headers. */
  readonly dropTrusted: ReadonlySet<string>;
  /** Dropped from clients outside TRUSTED_PROXIES: the above plus STRIP_CLIENT_HEADERS. */
  readonly dropUntrusted: ReadonlySet<string>;
  /** ALLOW_UNDERSCORE_HEADERS. */
  readonly allowUnderscores: boolean;
  /**
   * Every name above and every credential header, with `_` written `-`: a name with `_` that
   * folds onto one of them is dropped whatever ALLOW_UNDERSCORE_HEADERS says, because CGI-style
   * servers (WSGI, Rack, PHP-FPM) turn `-` and `_` into the same variable.
   */
  readonly folded: ReadonlySet<string>;
}

/** Credentials: never in the drop lists (they are forwarded), but never spelled with `_` either. */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'x-api-key'];

const fold = (name: string): string => name.replaceAll('_', '-');

/**
 * Compiles the request-header rules. `claimHeaders` are set from verified claims (a client's
 * copies never pass); `stripUntrusted` is STRIP_CLIENT_HEADERS; `keyed` are further names the
 * gateway keys on or acts on (the known forwarding headers), protected from underscore spellings.
 */
export function compileRequestHeaderPolicy(options: {
  claimHeaders: readonly string[];
  stripUntrusted: readonly string[];
  allowUnderscores: boolean;
  keyed: readonly string[];
}): RequestHeaderPolicy {
  const owned = [...HOP_BY_HOP, ...GATEWAY_SET];
  // A claim header configured with `_` is also reached by its `-` spelling, and the reverse.
  const claims = options.claimHeaders.flatMap((name) => [name, fold(name)]);
  const dropTrusted = new Set([...owned, ...claims]);
  return {
    dropTrusted,
    dropUntrusted: new Set([...dropTrusted, ...options.stripUntrusted]),
    allowUnderscores: options.allowUnderscores,
    folded: new Set(
      [...dropTrusted, ...options.stripUntrusted, ...options.keyed, ...CREDENTIAL_HEADERS].map(
        fold,
      ),
    ),
  };
}

/** The policy with no claims, nothing stripped beyond the gateway's own, no underscores. */
export const DEFAULT_REQUEST_HEADER_POLICY = compileRequestHeaderPolicy({
  claimHeaders: [],
  stripUntrusted: [],
  allowUnderscores: false,
  keyed: [],
});

/**
 * Builds the header object sent upstream from the client's parsed headers. Pure, so every rule is
 * unit-tested; the Connection-listed names are removed before the gateway adds its own headers,
 * so a client can never strip what the gateway sets (fastify-reply-from does the same). Names
 * with `_` are dropped unless allowed (nginx's `underscores_in_headers off`, Kong's default).
 */
export function buildUpstreamHeaders(
  incoming: IncomingHttpHeaders,
  ctx: ForwardContext,
  policy: RequestHeaderPolicy = DEFAULT_REQUEST_HEADER_POLICY,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const listed = connectionTokens(incoming.connection);
  const drop = ctx.peerTrusted ? policy.dropTrusted : policy.dropUntrusted;
  for (const name in incoming) {
    if (drop.has(name) || listed?.has(name)) {
      continue;
    }
    if (name.includes('_') && (!policy.allowUnderscores || policy.folded.has(fold(name)))) {
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
    // Frameworks that read Forwarded (Spring, ASP.NET) prefer it to X-Forwarded-*; a trusted
    // proxy may pass a client's own on unchecked, so it is replaced by what the X-Forwarded-*
    // headers say, which is what the gateway validated and keys on.
    out.forwarded = forwardedElement(ctx);
  }
  out['x-real-ip'] = ctx.clientIp;
  out['x-request-id'] = ctx.requestId;
  return out;
}

/** One RFC 7239 element: `for`, `host` and `proto`, quoted where the syntax needs it. */
function forwardedElement(ctx: ForwardContext): string {
  const client = ctx.clientIp.includes(':') ? `"[${ctx.clientIp}]"` : ctx.clientIp;
  let element = `for=${client}`;
  if (ctx.forwardedHost !== '') {
    element += /^[a-z0-9._~-]+$/.test(ctx.forwardedHost)
      ? `;host=${ctx.forwardedHost}`
      : `;host="${ctx.forwardedHost}"`;
  }
  return `${element};proto=${ctx.proto}`;
}

/** What the gateway adds to its answers, compiled once at boot. */
export interface ResponseHeaderPolicy {
  /** The strict set of the gateway's own answers (errors); proxied ones use the route's. */
  security: SecurityHeaderSet;
  /** `SERVER_TIMING`: add `Server-Timing` and `X-Gateway-Latency` to proxied responses. */
  serverTiming?: boolean;
  /** Upstream headers meant for the gateway alone (`CACHE_TARGETED_FIELD`): never relayed. */
  strip?: ReadonlySet<string>;
}

/** Rewrites an upstream's `Location` (see rewriteRedirect); implemented by the exchange. */
export interface LocationRewriter {
  rewriteLocation(location: string): string;
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
 * - the route's security headers fill in only what the upstream did not set;
 * - a `Location` naming the upstream itself is rewritten by `redirects` (nginx's
 *   `proxy_redirect default`), in `raw` too, so the cache stores what the client got;
 * - with `dropCors` (the gateway's CORS policy judged the request's Origin) every
 *   `Access-Control-*` header of the upstream is dropped, so a reflecting upstream cannot let a
 *   refused origin read the answer, nor widen what an allowed one may do;
 * - headers in `strip` (meant for the gateway alone, `CACHE_TARGETED_FIELD`) are never relayed.
 */
export function filterResponseHeaders(
  raw: Buffer[],
  requestId: string,
  security: SecurityHeaderSet,
  tls: boolean,
  extra?: readonly string[],
  redirects?: LocationRewriter,
  dropCors = false,
  strip?: ReadonlySet<string>,
): string[] {
  const out: string[] = [];
  const securityNames = security.names;
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
    if (
      (lower !== 'trailer' && HOP_BY_HOP.has(lower)) ||
      lower === 'x-request-id' ||
      strip?.has(lower) === true
    ) {
      continue;
    }
    if (dropCors && lower.startsWith(CORS_PREFIX)) {
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
    if (redirects !== undefined && lower === 'location') {
      const location = raw[i + 1].toString('latin1');
      const rewritten = redirects.rewriteLocation(location);
      if (rewritten !== location) {
        raw[i + 1] = Buffer.from(rewritten, 'latin1');
      }
      out.push(name, rewritten);
      continue;
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
  fillSecurityHeaders(out, present, tls ? security.tls : security.plain);
  out.push('x-request-id', requestId);
  return out;
}
