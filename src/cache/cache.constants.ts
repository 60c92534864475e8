export const CACHE_HITS = 'cache_hits_total';
export const CACHE_MISSES = 'cache_misses_total';
export const CACHE_STALE = 'cache_stale_total';
