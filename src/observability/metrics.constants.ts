/** Prometheus metric names, shared by their providers and `@InjectMetric()` call sites. */

/** Gauge `backend_health_status{backend}`: 1 while the upstream is usable (probed up, not ejected), else 0. */
export const BACKEND_HEALTH_STATUS = 'backend_health_status';

/** Counter `circuit_breaker_trips_total{backend}`: times an upstream's breaker opened. */
export const CIRCUIT_BREAKER_TRIPS = 'circuit_breaker_trips_total';
