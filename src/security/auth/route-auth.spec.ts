import { compileRouteAuth, DEFAULT_ROUTE_AUTH, hideCredentials } from './route-auth';

describe('compileRouteAuth', () => {
  it('should accept both methods by default and share one object per combination', () => {
    expect(DEFAULT_ROUTE_AUTH).toEqual({
      jwt: true,
      apiKey: true,
      challenge: 'Bearer realm="gateway"',
      hidden: undefined,
    });
    expect(compileRouteAuth({ auth: ['api_key', 'jwt'] })).toBe(DEFAULT_ROUTE_AUTH);
    expect(compileRouteAuth({ auth: ['api_key'], hideCredentials: true })).toEqual({
      jwt: false,
      apiKey: true,
      challenge: 'Key realm="gateway"',
      hidden: ['x-api-key'],
    });
  });
});

describe('hideCredentials', () => {
  it("should remove the route's credential headers, Authorization only when it is a bearer token", () => {
    const both = compileRouteAuth({ hideCredentials: true }).hidden!;
    const withBearer: Record<string, string> = {
      authorization: 'Bearer abc.def.ghi',
      'x-api-key': 'k',
      accept: '*/*',
    };
    hideCredentials(withBearer, both);
    expect(withBearer).toEqual({ accept: '*/*' });

    const withBasic: Record<string, string> = {
      authorization: 'Basic dXNlcjpwYXNz',
      'x-api-key': 'k',
    };
    hideCredentials(withBasic, both);
    expect(withBasic).toEqual({ authorization: 'Basic dXNlcjpwYXNz' });

    const keyOnly: Record<string, string> = { authorization: 'Bearer t', 'x-api-key': 'k' };
    hideCredentials(
      keyOnly,
      compileRouteAuth({ auth: ['api_key'], hideCredentials: true }).hidden!,
    );
    expect(keyOnly).toEqual({ authorization: 'Bearer t' });
  });
});
