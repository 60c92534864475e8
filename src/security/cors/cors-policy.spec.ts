import { CorsPolicy, type CorsOptions } from './cors-policy';

const base: CorsOptions = {
  allowedOrigins: ['https://app.example.com'],
  allowedMethods: ['GET', 'POST', 'DELETE'],
  allowedHeaders: ['Authorization', 'Content-Type', 'X-API-Key'],
  exposedHeaders: ['X-Request-Id'],
  allowCredentials: false,
  maxAgeSeconds: 600,
};

const asMap = (headers: string[]): Record<string, string> => {
  const m: Record<string, string> = {};
  for (let i = 0; i < headers.length; i += 2) {
    m[headers[i]] = headers[i + 1];
  }
  return m;
};

describe('CorsPolicy', () => {
  it('should do nothing when no origin is configured', () => {
    expect(
      new CorsPolicy({ ...base, allowedOrigins: [] }).evaluate('GET', { origin: 'https://x' }),
    ).toEqual({ kind: 'none' });
  });

  it('should only add Vary: Origin without an Origin, and refuse an actual request from elsewhere', () => {
    const vary = { kind: 'vary', headers: ['vary', 'Origin'] };
    expect(new CorsPolicy(base).evaluate('GET', {})).toEqual(vary);
    // Served (same-origin POSTs carry Origin too) but marked refused: no CORS header goes out.
    expect(new CorsPolicy(base).evaluate('POST', { origin: 'https://other.test' })).toEqual({
      kind: 'refused',
      headers: ['vary', 'Origin'],
    });
  });

  it('should answer an allowed preflight with the configured methods, headers and max-age', () => {
    const d = new CorsPolicy(base).evaluate('OPTIONS', {
      origin: 'https://app.example.com',
      'access-control-request-method': 'DELETE',
      'access-control-request-headers': 'authorization, content-type',
    });
    expect(d.kind).toBe('preflight');
    const h = asMap(d.kind === 'preflight' ? d.headers : []);
    expect(h['access-control-allow-origin']).toBe('https://app.example.com');
    expect(h['access-control-allow-methods']).toBe('GET, POST, DELETE');
    expect(h['access-control-allow-headers']).toBe('Authorization, Content-Type, X-API-Key');
    expect(h['access-control-max-age']).toBe('600');
    expect(h.vary).toContain('Origin');
  });

  it.each([
    [{ origin: 'https://evil.example.com', 'access-control-request-method': 'GET' }, 'origin'],
    [{ origin: 'https://app.example.com', 'access-control-request-method': 'PATCH' }, 'method'],
    [
      {
        origin: 'https://app.example.com',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'x-evil',
      },
      'header',
    ],
  ])('should reject a preflight %p', (headers, reason) => {
    const d = new CorsPolicy(base).evaluate('OPTIONS', headers);
    expect(d.kind).toBe('reject');
    expect(d.kind === 'reject' && d.reason).toContain(reason);
  });

  it('should add allow-origin, Vary and exposed headers to actual requests', () => {
    const d = new CorsPolicy(base).evaluate('GET', { origin: 'https://APP.example.com' });
    expect(d).toEqual({
      kind: 'allow',
      headers: [
        'access-control-allow-origin',
        'https://APP.example.com',
        'vary',
        'Origin',
        'access-control-expose-headers',
        'X-Request-Id',
      ],
    });
  });

  it('should answer * only without credentials and echo the origin with them', () => {
    const open = new CorsPolicy({ ...base, allowedOrigins: ['*'] }).evaluate('GET', {
      origin: 'https://a.test',
    });
    expect(asMap(open.kind === 'allow' ? open.headers : [])['access-control-allow-origin']).toBe(
      '*',
    );
    const creds = new CorsPolicy({ ...base, allowCredentials: true }).evaluate('GET', {
      origin: 'https://app.example.com',
    });
    const h = asMap(creds.kind === 'allow' ? creds.headers : []);
    expect(h['access-control-allow-origin']).toBe('https://app.example.com');
    expect(h['access-control-allow-credentials']).toBe('true');
  });
});
