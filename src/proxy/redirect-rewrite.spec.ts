import { rewriteRedirect } from './redirect-rewrite';

describe('rewriteRedirect (proxy_redirect default)', () => {
  const origin = 'http://10.0.0.5:8080';

  it.each([
    // [location, basePath, prefix, expected]
    ['http://10.0.0.5:8080/login', '', '', '/login'],
    ['http://10.0.0.5:8080/login?next=%2F', '', '', '/login?next=%2F'],
    ['HTTP://10.0.0.5:8080/x', '', '', '/x'],
    ['http://10.0.0.5:8080', '', '', '/'],
    ['http://10.0.0.5:8080?q', '', '', '/?q'],
    ['http://10.0.0.5:8080/v2/items/1', '/v2', '/api', '/api/items/1'],
    ['http://10.0.0.5:8080/v2', '/v2', '/api', '/api/'],
    ['http://10.0.0.5:8080/v2/', '/v2/', '/api/', '/api/'],
    ['http://10.0.0.5:8080/items/1', '', '/api', '/api/items/1'],
    // Not the upstream: left alone.
    ['https://accounts.example/login', '', '/api', 'https://accounts.example/login'],
    ['http://10.0.0.5:80801/x', '', '', 'http://10.0.0.5:80801/x'],
    ['http://10.0.0.5:8080.evil/x', '', '', 'http://10.0.0.5:8080.evil/x'],
    ['/relative', '', '/api', '/relative'],
    // Outside the base path this route maps.
    ['http://10.0.0.5:8080/other', '/v2', '/api', 'http://10.0.0.5:8080/other'],
    ['http://10.0.0.5:8080/v22/x', '/v2', '/api', 'http://10.0.0.5:8080/v22/x'],
  ])('%s (base %j, prefix %j) → %s', (location, basePath, prefix, expected) => {
    expect(rewriteRedirect(location, origin, basePath, prefix)).toBe(expected);
  });

  it('should recognise the default port written out', () => {
    expect(rewriteRedirect('http://users.svc:80/me', 'http://users.svc', '', '')).toBe('/me');
    expect(rewriteRedirect('https://users.svc:443/me', 'https://users.svc', '', '')).toBe('/me');
    expect(rewriteRedirect('http://[::1]:80/me', 'http://[::1]', '', '')).toBe('/me');
  });
});
