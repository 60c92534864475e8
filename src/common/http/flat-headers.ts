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
