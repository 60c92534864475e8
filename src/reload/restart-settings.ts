import type { GatewayConfig } from '../config/gateway-config.types';

/** What a reload applies; everything else is read once at start. */
const APPLIED = new Set(['routes', 'configFile', 'security.ipWhitelist', 'security.ipBlacklist']);

/**
 * Settings whose value differs between the running configuration and a reloaded one, as config
 * paths (`security.maxRequestsPerSecond`): they need a restart, and the reload says so rather
 * than pretending to apply them.
 */
export function settingsNeedingRestart(running: GatewayConfig, fresh: GatewayConfig): string[] {
  const changed: string[] = [];
  const visit = (a: unknown, b: unknown, path: string): void => {
    if (APPLIED.has(path)) {
      return;
    }
    if (isRecord(a) && isRecord(b)) {
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
        visit(a[key], b[key], path === '' ? key : `${path}.${key}`);
      }
      return;
    }
    if (JSON.stringify(a) !== JSON.stringify(b)) {
      changed.push(path);
    }
  };
  visit(running, fresh, '');
  return changed;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
