import { isProbePath, isReservedPath, reservedPathsUnder } from './reserved-paths';

describe('reserved paths', () => {
  it('should tell the gateway paths and the probes', () => {
    expect(
      ['/health', '/health/live', '/admin', '/admin/x', '/docs-json'].every(isReservedPath),
    ).toBe(true);
    expect(['/healthz', '/administrator', '/api/users'].some(isReservedPath)).toBe(false);
    expect(isProbePath('/health/ready')).toBe(true);
    expect(isProbePath('/health')).toBe(false);
  });

  it.each([
    [
      '/',
      false,
      [
        '/health*',
        '/metrics',
        '/stats',
        '/monitor*',
        '/api/system-metrics',
        '/admin*',
        '/docs*',
        '/docs-json',
      ],
    ],
    ['/api', false, ['/api/system-metrics']],
    ['/api/', false, ['/api/system-metrics']],
    ['/docs', false, ['/docs*']],
    ['/admin/users', false, ['/admin*']],
    ['/health/deep', false, ['/health*']],
    ['/api/users', false, []],
    ['/healthz', false, []],
    ['/', true, ['/health/live', '/health/ready']],
    ['/health', true, ['/health/live', '/health/ready']],
    ['/docs', true, []],
  ])('%s (only probes: %s) shares %j', (prefix, onlyProbes, expected) => {
    expect(reservedPathsUnder(prefix, onlyProbes)).toEqual(expected);
  });
});
