import { Report } from './report';
import { knownVariables, misspeltVariable, warnAboutMisspeltVariables } from './env-typos';

describe('misspelt environment variables', () => {
  it.each([
    ['ENABLE_CACHE', 'ENABLE_CACHING'],
    ['MAX_REQUEST_PER_SECOND', 'MAX_REQUESTS_PER_SECOND'],
    ['GATEWAY_PROT', 'GATEWAY_PORT'],
    ['REDIS_PASS', 'REDIS_PASSWORD'],
    ['TRUSTED_PROXY', 'TRUSTED_PROXIES'],
    ['DDOS_TRESHOLD', 'DDOS_THRESHOLD'],
    ['SERVICE_ROUTE', 'SERVICE_ROUTES'],
  ])('%s is close to %s', (name, meant) => {
    expect(misspeltVariable(name, knownVariables())).toBe(meant);
  });

  it.each([
    'PATH',
    'HOME',
    'NODE_ENV',
    'REDIS_PORT',
    'REDIS_HOST',
    'LOG_FORMAT',
    'HOSTNAME',
    'TERM',
  ])('%s is left alone', (name) => {
    expect(misspeltVariable(name, knownVariables())).toBeUndefined();
  });

  it('should warn once per variable, skipping known, ROUTE_ and lower-case names', () => {
    const report = new Report();
    warnAboutMisspeltVariables(
      {
        ENABLE_CACHE: 'false',
        ENABLE_CACHING: 'true',
        GATEWAY_PROT: '1',
        ROUTE_X_URLL: 'h:1',
        enable_cache: 'x',
        MAX_REQUESTS_PER_SECOND: '5',
      },
      report,
    );

    expect(report.warnings).toEqual([
      'ENABLE_CACHE is not a gateway setting and is ignored; did you mean ENABLE_CACHING? (ENABLE_CACHING keeps its own value)',
      'GATEWAY_PROT is not a gateway setting and is ignored; did you mean GATEWAY_PORT? (GATEWAY_PORT keeps its default)',
    ]);
  });
});
