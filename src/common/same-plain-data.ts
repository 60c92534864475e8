/**
 * Deep equality of plain data (what JSON can hold, plus `undefined`): objects by their own
 * enumerable keys, arrays by position, everything else by `Object.is`. A key whose value is
 * `undefined` counts as absent, as it does once written out. Used to tell a reloaded route from
 * an unchanged one without knowing the route's fields, so a field added later is compared too.
 */
export function samePlainData(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) {
    return true;
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return false;
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) {
      return false;
    }
    for (let i = 0; i < a.length; i++) {
      if (!samePlainData(a[i], b[i])) {
        return false;
      }
    }
    return true;
  }
  if (Array.isArray(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) {
    return false;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let defined = 0;
  for (const key in x) {
    if (!Object.hasOwn(x, key) || x[key] === undefined) {
      continue;
    }
    defined++;
    if (!Object.hasOwn(y, key) || !samePlainData(x[key], y[key])) {
      return false;
    }
  }
  for (const key in y) {
    if (Object.hasOwn(y, key) && y[key] !== undefined) {
      defined--;
    }
  }
  return defined === 0;
}
