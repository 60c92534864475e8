import type { IncomingMessage } from 'node:http';
import type { LiveEntry } from './cache-entry';
import { addSpan, type ByteSpan, covers, resolveRange, strongMatch } from './ranges';

/**
 * The range a request asks of `entry` (GET only), or undefined when it gets the whole
 * representation: no Range, a form this cache does not serve (several ranges, other units), or
 * an `If-Range` that no longer matches (RFC 9110 §13.1.5: a strong ETag, or exactly the stored
 * Last-Modified).
 */
export function requestedRange(
  entry: Pick<LiveEntry, 'body' | 'partial' | 'etag' | 'lastModified' | 'status'>,
  req: IncomingMessage,
): ByteSpan | 'unsatisfiable' | undefined {
  const range = req.headers.range;
  if (range === undefined || req.method !== 'GET' || entry.status !== 200) {
    return undefined;
  }
  const rawIfRange = req.headers['if-range'];
  const ifRange = Array.isArray(rawIfRange) ? rawIfRange[0] : rawIfRange;
  if (ifRange !== undefined) {
    const matches =
      ifRange.trim().startsWith('"') || ifRange.trim().startsWith('W/')
        ? strongMatch(entry.etag, ifRange)
        : entry.lastModified !== undefined && ifRange.trim() === entry.lastModified.trim();
    if (!matches) {
      return undefined;
    }
  }
  return resolveRange(range, entry.partial?.length ?? entry.body.length);
}

/** Whether an incomplete entry holds the range this request asks for. */
export function holdsRequestedRange(entry: LiveEntry, req: IncomingMessage): boolean {
  const range = requestedRange(entry, req);
  return Array.isArray(range) && entry.partial !== undefined && covers(entry.partial.have, range);
}

/**
 * A newly received part combined with the stored entry of the same variant (RFC 9111 §3.4):
 * only when both carry the same strong validator and complete length; the new part's headers
 * win. Once every byte is held the result is a complete entry. Otherwise the new part alone.
 */
export function combineParts(stored: LiveEntry | undefined, part: LiveEntry): LiveEntry {
  const incoming = part.partial;
  if (
    incoming === undefined ||
    stored === undefined ||
    !strongMatch(stored.etag, part.etag) ||
    (stored.partial?.length ?? stored.body.length) !== incoming.length
  ) {
    return part;
  }
  if (stored.partial === undefined) {
    // The complete stored representation already holds the part: refresh its metadata only.
    return { ...part, body: stored.body, partial: undefined, views: undefined };
  }
  const body = Buffer.from(stored.body);
  let have = stored.partial.have;
  for (const span of incoming.have) {
    part.body.copy(body, span[0], span[0], span[1] + 1);
    have = addSpan(have, span);
  }
  const complete = have.length === 1 && have[0][0] === 0 && have[0][1] === incoming.length - 1;
  return {
    ...part,
    body,
    partial: complete ? undefined : { length: incoming.length, have },
    views: undefined,
    sharedId: undefined,
  };
}
