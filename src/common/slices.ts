/** How long a slice of background work may hold the event loop before it gives a turn back. */
export const SLICE_MS = 4;

/** Lets every pending I/O callback and timer run before the caller continues. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * `items.map(fn)` in slices of about `SLICE_MS`, yielding to the event loop between them, so a
 * long list (20,000 routes) does not delay the requests in flight meanwhile.
 */
export async function mapInSlices<T, U>(items: readonly T[], fn: (item: T) => U): Promise<U[]> {
  const out: U[] = new Array<U>(items.length);
  let sliceStart = performance.now();
  for (let i = 0; i < items.length; i++) {
    if ((i & 63) === 63 && performance.now() - sliceStart >= SLICE_MS) {
      await yieldToEventLoop();
      sliceStart = performance.now();
    }
    out[i] = fn(items[i]);
  }
  return out;
}
