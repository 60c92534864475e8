/** A response header list as flat `[name, value, …]` pairs; names in any case. */
export type FlatHeaders = readonly string[];

/** Values of one header (names compared case-insensitively), joined with `, `. */
export function getHeader(headers: FlatHeaders, lowerName: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i].length === lowerName.length && headers[i].toLowerCase() === lowerName) {
      value = value === undefined ? headers[i + 1] : `${value}, ${headers[i + 1]}`;
    }
  }
  return value;
}

/** The first field line of a header, alone (names compared case-insensitively). */
export function firstHeader(headers: FlatHeaders, lowerName: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i].length === lowerName.length && headers[i].toLowerCase() === lowerName) {
      return headers[i + 1];
    }
  }
  return undefined;
}

export function hasHeader(headers: FlatHeaders, lowerName: string): boolean {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i].length === lowerName.length && headers[i].toLowerCase() === lowerName) {
      return true;
    }
  }
  return false;
}

/** Removes every pair named `lowerName` from `headers` (in place). */
export function removeHeader(headers: string[], lowerName: string): void {
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    if (headers[i].length === lowerName.length && headers[i].toLowerCase() === lowerName) {
      headers.splice(i, 2);
    }
  }
}

/** Response headers of the CORS protocol (Fetch standard): `Access-Control-Allow-Origin`, … */
export const CORS_PREFIX = 'access-control-';

/**
 * Drops every `Access-Control-*` pair from a header list about to be written, in place: the
 * gateway's CORS policy judged the request's Origin, and the list may carry an upstream's own.
 */
export function removeCorsHeaders(headers: string[]): void {
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    if (headers[i].toLowerCase().startsWith(CORS_PREFIX)) {
      headers.splice(i, 2);
    }
  }
}
