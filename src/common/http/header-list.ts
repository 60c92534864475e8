/**
 * Whether a flat `[name, value, …]` header list with lower-case names has `lower`. The gateway's
 * own lists (CORS, RateLimit) are a handful of names: a scan beats building a Set per response.
 */
export function listsHeader(list: readonly string[], lower: string): boolean {
  for (let i = 0; i < list.length; i += 2) {
    if (list[i] === lower) {
      return true;
    }
  }
  return false;
}
