import type { GatewayConfig } from '../config/gateway-config.types';
import { loadGatewayConfig } from '../config/load-config';
import { settingsNeedingRestart } from './restart-settings';

function load(env: Record<string, string>): GatewayConfig {
  const loaded = loadGatewayConfig({ env, cwd: __dirname, isTTY: false });
  if (!loaded.ok) {
    throw new Error(loaded.problems.join('\n'));
  }
  return loaded.config;
}

describe('settingsNeedingRestart', () => {
  it('should name the settings a reload cannot apply, never routes or IP lists', () => {
    const running = load({ ROUTE_A_URL: 'h:1', IP_BLACKLIST: '10.0.0.1' });
    const fresh = load({
      ROUTE_A_URL: 'h:2',
      ROUTE_B_URL: 'h:3',
      ROUTE_B_PREFIX: '/b',
      IP_BLACKLIST: '10.0.0.2',
      IP_WHITELIST: '10.9.0.0/16',
      MAX_REQUESTS_PER_SECOND: '50',
      LOG_LEVEL: 'debug',
    });

    expect(settingsNeedingRestart(running, fresh)).toEqual([
      'security.maxRequestsPerSecond',
      'security.ddosThreshold',
      'log.level',
    ]);
    expect(settingsNeedingRestart(running, running)).toEqual([]);
  });
});
