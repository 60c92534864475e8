import { Injectable } from '@nestjs/common';
import { connect } from 'node:net';
import { request, type Dispatcher } from 'undici';
import { GATEWAY_VERSION } from '../common/version';
import type { Upstream } from '../load-balancing/upstream';

/** What one active probe checks; several upstreams (routes) can share one. */
export type ProbeSpec =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'http'; url: string; dispatcher: Dispatcher };

const USER_AGENT = `nest-edge-gateway/${GATEWAY_VERSION} health-check`;

/**
 * The probe of `upstream` for a route with (or without) `health_path`:
 * `GET <origin><base path><health_path>` with the upstream's query dropped, or a TCP connect to
 * host:port (80/443 by default).
 */
export function probeSpecFor(upstream: Upstream, healthPath: string | undefined): ProbeSpec {
  const url = new URL(upstream.origin);
  if (healthPath !== undefined) {
    const base = upstream.basePath.endsWith('/')
      ? upstream.basePath.slice(0, -1)
      : upstream.basePath;
    const path = healthPath.startsWith('/') ? healthPath : `/${healthPath}`;
    return {
      kind: 'http',
      url: `${upstream.origin}${base}${path}`,
      dispatcher: upstream.dispatcher,
    };
  }
  const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  // URL keeps IPv6 literals bracketed; net.connect wants them bare.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { kind: 'tcp', host, port };
}

/** De-duplication key: upstreams whose probes would be identical share one probe. */
export function probeKey(spec: ProbeSpec): string {
  return spec.kind === 'tcp' ? `tcp://${spec.host}:${spec.port}` : `GET ${spec.url}`;
}

/**
 * Runs one probe; resolves when healthy, rejects with the reason otherwise. A separate provider so
 * tests can swap in a scripted one.
 */
@Injectable()
export class UpstreamProber {
  probe(spec: ProbeSpec, timeoutMs: number, signal: AbortSignal): Promise<void> {
    return spec.kind === 'tcp'
      ? tcpProbe(spec.host, spec.port, timeoutMs, signal)
      : httpProbe(spec.url, spec.dispatcher, timeoutMs, signal);
  }
}

function tcpProbe(
  host: string,
  port: number,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const socket = connect({ host, port });
    const finish = (err?: Error): void => {
      if (settled) {
        return;
      }
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err) {
        reject(err);
      } else {
        resolve();
      }
    };
    const onAbort = (): void => finish(new Error('probe aborted'));
    const timer = setTimeout(
      () => finish(new Error(`TCP connect timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish());
    socket.once('error', (err) => finish(err));
  });
}

async function httpProbe(
  url: string,
  dispatcher: Dispatcher,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  const res = await request(url, {
    method: 'GET',
    dispatcher,
    headers: { 'user-agent': USER_AGENT, accept: '*/*' },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
  });
  // Discard the body (up to undici's dump limit) so the keep-alive connection can be reused.
  await res.body.dump();
  if (res.statusCode < 200 || res.statusCode > 299) {
    throw new Error(`GET answered ${res.statusCode}`);
  }
}
