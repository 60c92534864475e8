import { z } from 'zod';
import { parseAlgorithm, unknownAlgorithmMessage } from '../env-parsers';
import { LOAD_BALANCING_ALGORITHMS, type LoadBalancingAlgorithm } from '../gateway-config.types';
import { area, duration, integer, setting } from './setting';

/** Also the schema of a route's own `algorithm`. */
export const algorithmSchema = z.enum(LOAD_BALANCING_ALGORITHMS, {
  error: (issue) => unknownAlgorithmMessage(issue.input),
});

export const LOAD_BALANCING = area({
  section: 'load_balancing',
  title: 'Load balancing and health checks',
  settings: {
    algorithm: setting<LoadBalancingAlgorithm>({
      env: 'LOAD_BALANCING_ALGO',
      key: 'algorithm',
      description: 'Default algorithm for every route.',
      type: LOAD_BALANCING_ALGORITHMS.join(' | '),
      schema: algorithmSchema,
      parse: parseAlgorithm,
      default: 'least-conn',
      shownDefault: 'least-conn',
    }),
    healthCheckIntervalMs: duration({
      env: 'HEALTH_CHECK_INTERVAL',
      key: 'health_check_interval',
      description: 'Interval between active upstream health checks.',
      default: '10s',
    }),
    healthCheckTimeoutMs: duration({
      env: 'HEALTH_CHECK_TIMEOUT',
      key: 'health_check_timeout',
      description: 'A probe (TCP connect, or GET health_path) slower than this fails.',
      default: '2s',
    }),
    healthCheckFails: integer({
      env: 'HEALTH_CHECK_FAILS',
      key: 'health_check_fails',
      description: 'Consecutive failed probes before an upstream is marked down.',
      min: 1,
      default: 2,
    }),
    healthCheckPasses: integer({
      env: 'HEALTH_CHECK_PASSES',
      key: 'health_check_passes',
      description: 'Consecutive passed probes before a down upstream is marked up again.',
      min: 1,
      default: 1,
    }),
    passiveEjectFailures: integer({
      env: 'PASSIVE_EJECT_FAILURES',
      key: 'passive_eject_failures',
      description:
        'Consecutive failures of live traffic (exchange failures and failure statuses) that eject an upstream; 0 turns passive ejection off.',
      min: 0,
      default: 5,
    }),
    passiveEjectBaseMs: duration({
      env: 'PASSIVE_EJECT_BASE',
      key: 'passive_eject_base',
      description:
        'First ejection period; doubles on each repeated ejection, up to 10 times this value.',
      default: '30s',
    }),
    stallTimeoutMs: duration({
      env: 'UPSTREAM_STALL_TIMEOUT',
      key: 'upstream_stall_timeout',
      description:
        "An upstream that answers nothing for this long (or twice its pool's slowest recent answer, if longer) while requests wait on it and its peers answer newer ones is ejected, and its waiting retryable requests move to a peer; 0 turns this off.",
      default: '500ms',
      allowZero: true,
    }),
  },
});
