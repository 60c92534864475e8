import { z } from 'zod';
import { area, boolean, setting } from './setting';

export const GENERAL = area({
  section: undefined,
  title: 'General',
  settings: {
    demoUpstream: boolean({
      env: 'DEMO_UPSTREAM',
      key: 'demo_upstream',
      description: 'Serve the built-in demo upstream on /demo when no route is configured.',
      default: true,
    }),
    noDashboard: setting({
      env: 'NO_DASHBOARD',
      key: 'no_dashboard',
      description: 'Disable the live terminal dashboard.',
      type: 'flag: any non-empty value',
      schema: z.boolean(),
      // Any non-empty value, as in Go: the variable is a flag, not a boolean.
      parse: () => true,
      // `no_dashboard: false` in the file must not count as present.
      fileText: (value) => (value === true ? '1' : undefined),
      default: false,
      shownDefault: false,
    }),
    configWatch: boolean({
      env: 'GATEWAY_CONFIG_WATCH',
      key: 'config_watch',
      description:
        'Reload routes and IP lists when the GATEWAY_CONFIG file or ./.env changes (Kubernetes ConfigMap symlink swaps included), as SIGHUP does.',
      default: false,
    }),
  },
});
