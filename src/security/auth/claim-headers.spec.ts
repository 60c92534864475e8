import { claimHeaders } from './claim-headers';

describe('claimHeaders', () => {
  const forwarded = [
    { claim: 'sub', header: 'x-user-id' },
    { claim: 'email', header: 'x-user-email' },
    { claim: 'roles', header: 'x-user-roles' },
    { claim: 'https://example.com/tenant', header: 'x-tenant' },
  ];

  it('should forward strings, numbers, booleans and flat arrays', () => {
    expect(
      claimHeaders(
        {
          sub: 'u-1',
          email: 'a@example.com',
          roles: ['admin', 'ops', 7],
          'https://example.com/tenant': 42,
        },
        forwarded,
      ),
    ).toEqual({
      'x-user-id': 'u-1',
      'x-user-email': 'a@example.com',
      'x-user-roles': 'admin,ops,7',
      'x-tenant': '42',
    });
    expect(claimHeaders({ sub: true }, forwarded)).toEqual({ 'x-user-id': 'true' });
  });

  it('should leave out absent claims and values with no safe header form', () => {
    expect(
      claimHeaders(
        {
          sub: 'line\r\nx-injected: 1',
          email: 'zoë@example.com',
          roles: [{ nested: true }],
          'https://example.com/tenant': 'x'.repeat(5000),
        },
        forwarded,
      ),
    ).toEqual({});
    expect(claimHeaders({ sub: { id: 1 } }, forwarded)).toEqual({});
    expect(claimHeaders({ sub: Number.NaN }, forwarded)).toEqual({});
    expect(claimHeaders({}, forwarded)).toEqual({});
  });
});
