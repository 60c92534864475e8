/**
 * Byte ranges (RFC 9110 §14) for the cache: single ranges served from stored responses, and
 * partial (206) responses stored and combined (RFC 9111 §3.3, §3.4).
 */

/** An inclusive byte interval. */
export type ByteSpan = [first: number, last: number];

/** A stored incomplete response: the representation's length and the spans held. */
export interface PartialContent {
  /** Complete length from `Content-Range` (`bytes a-b/length`). */
  length: number;
  /** Sorted, merged spans the stored body holds (the body is `length` bytes, holes zeroed). */
  have: ByteSpan[];
}

/**
 * A `Range` request header resolved against a representation of `length` bytes:
 * - `undefined`: not a single byte range this cache serves (other units, several ranges, bad
 *   syntax); the Range is then ignored and the whole representation is the answer (§14.2);
 * - `'unsatisfiable'`: a valid range that selects nothing (416);
 * - a span within `[0, length)`.
 */
export function resolveRange(
  header: string | undefined,
  length: number,
): ByteSpan | 'unsatisfiable' | undefined {
  if (header === undefined) {
    return undefined;
  }
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (m === null || (m[1] === '' && m[2] === '')) {
    return undefined;
  }
  if (m[1] === '') {
    // suffix-range: the last n bytes.
    const n = Number(m[2]);
    if (n === 0 || length === 0) {
      return 'unsatisfiable';
    }
    return [Math.max(0, length - n), length - 1];
  }
  const first = Number(m[1]);
  const last = m[2] === '' ? Infinity : Number(m[2]);
  if (last < first) {
    return undefined;
  }
  if (first >= length) {
    return 'unsatisfiable';
  }
  return [first, Math.min(last, length - 1)];
}

/** `Content-Range: bytes a-b/length` with a known length, as a span and length. */
export function parseContentRange(
  value: string | undefined,
): { span: ByteSpan; length: number } | undefined {
  if (value === undefined) {
    return undefined;
  }
  const m = /^\s*bytes (\d+)-(\d+)\/(\d+)\s*$/i.exec(value);
  if (m === null) {
    return undefined;
  }
  const span: ByteSpan = [Number(m[1]), Number(m[2])];
  const length = Number(m[3]);
  return span[0] <= span[1] && span[1] < length ? { span, length } : undefined;
}

/** `have` plus `span`, sorted and merged (adjacent spans join). */
export function addSpan(have: readonly ByteSpan[], span: ByteSpan): ByteSpan[] {
  const all = [...have, span].sort((a, b) => a[0] - b[0]);
  const out: ByteSpan[] = [];
  for (const [first, last] of all) {
    const prev = out[out.length - 1];
    if (prev !== undefined && first <= prev[1] + 1) {
      prev[1] = Math.max(prev[1], last);
    } else {
      out.push([first, last]);
    }
  }
  return out;
}

/** Whether `have` holds every byte of `span`. */
export function covers(have: readonly ByteSpan[], span: ByteSpan): boolean {
  return have.some(([first, last]) => first <= span[0] && span[1] <= last);
}

/** Strong comparison of entity tags (RFC 9110 §8.8.3.2): both strong and identical. */
export function strongMatch(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && !a.startsWith('W/') && a.trim() === b.trim();
}
