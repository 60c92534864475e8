import { Logger } from '@nestjs/common';
import type { LiveEntry } from './cache-entry';
import type { CacheExchange, CacheHost } from './cache-exchange';
import { PRINCIPAL_VARY, withPrincipalVary } from './cache-key';
import { decideStore } from './cache-policy';
import type { HttpCacheService } from './http-cache.service';
import type { RouteCacheSettings } from './route-cache';
import { isEntryCompressible, storedHeaders } from './stored-headers';
import { conditionalHeaders, useStoredSelecting } from './vary';

/**
 * stale-while-revalidate (RFC 5861): refreshes a stale entry off the request path, one refresh
 * per stored variant at a time, conditionally when the entry has validators. No client waits
 * on it; failures only leave the stale entry to age out.
 */
export class BackgroundRefresher {
  private readonly inFlight = new Set<string>();
  private readonly logger = new Logger(BackgroundRefresher.name);

  constructor(
    private readonly cache: Pick<HttpCacheService, 'refresh' | 'save' | 'maxObjectBytes'>,
  ) {}

  start<E extends CacheExchange>(
    exchange: E,
    host: CacheHost<E>,
    settings: RouteCacheSettings,
    primary: string,
    stale: LiveEntry,
    authenticated: boolean,
  ): void {
    const refreshKey = `${primary}\n${stale.variant}`;
    if (this.inFlight.has(refreshKey)) {
      return;
    }
    this.inFlight.add(refreshKey);
    const conditional = conditionalHeaders(stale);
    const req = exchange.req;
    useStoredSelecting(req, stale);
    const requestTime = Date.now();
    host
      .fetchInBackground(exchange, conditional)
      .then(async (response) => {
        const responseTime = Date.now();
        const raw: string[] = [];
        for (const [name, value] of Object.entries(response.headers)) {
          for (const v of Array.isArray(value) ? value : [value ?? '']) {
            raw.push(name, v);
          }
        }
        const headers = storedHeaders(raw);
        if (response.statusCode === 304) {
          await response.body.dump();
          this.cache.refresh(
            stale,
            headers,
            settings,
            authenticated,
            requestTime,
            responseTime,
            primary,
            req,
          );
          return;
        }
        const verdict = decideStore({
          status: response.statusCode,
          headers,
          age: Array.isArray(response.headers.age) ? response.headers.age[0] : response.headers.age,
          authenticated,
          requestNoStore: false,
          defaultTtlMs: settings.ttlMs,
          ttlOptIn: settings.ttlOptIn,
          allowSetCookie: settings.allowSetCookie,
          targeted: settings.targeted,
          staleOnErrorMs: settings.staleOnErrorMs,
          requestTime,
          responseTime,
        });
        if (!verdict.store) {
          await response.body.dump();
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of response.body) {
          size += (chunk as Buffer).length;
          if (size > this.cache.maxObjectBytes) {
            response.body.destroy();
            return;
          }
          chunks.push(chunk as Buffer);
        }
        this.cache.save(
          primary,
          {
            ...verdict.entry,
            vary: stale.vary.includes(PRINCIPAL_VARY)
              ? withPrincipalVary(verdict.entry.vary)
              : verdict.entry.vary,
            headers,
            body: Buffer.concat(chunks, size),
            variant: '',
            compressible: isEntryCompressible(headers),
          },
          req,
        );
      })
      .catch((error: unknown) => {
        this.logger.debug(`background refresh of ${primary} failed: ${String(error)}`);
      })
      .finally(() => this.inFlight.delete(refreshKey));
  }
}
