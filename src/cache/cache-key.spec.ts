import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import {
  parseTarget,
  pathPartOf,
  primaryKey,
  PRINCIPAL_VARY,
  routeKeyPart,
  uriOf,
  scopeToPrincipal,
  secondaryKey,
  withPrincipalVary,
} from './cache-key';

const req = (headers: IncomingHttpHeaders) => ({ headers }) as IncomingMessage;

describe('cache keys', () => {
  it('primary key: scheme, validated authority, path and query, then the route; method-independent', () => {
    const route = routeKeyPart('api');
    expect(primaryKey(false, 'api.example.com:8080', '/a/b', 'x=1', route)).toBe(
      'http://api.example.com:8080/a/b?x=1 r3:api',
    );
    expect(primaryKey(true, 'api.example.com', '/a', '', route)).toBe(
      'https://api.example.com/a r3:api',
    );
    expect(uriOf(primaryKey(true, 'api.example.com', '/a', 'q', route))).toBe(
      'https://api.example.com/a?q',
    );
  });

  it('primary key: fields cannot run into each other', () => {
    // Route names are free text: the length prefix keeps `a r1:b` and `a` + ` r1:b` apart.
    expect(primaryKey(false, 'h', '/', '', routeKeyPart('a r1:b'))).not.toBe(
      primaryKey(false, 'h', '/', '', routeKeyPart('a')) + routeKeyPart('b'),
    );
    expect(primaryKey(false, 'h', '/', '', routeKeyPart('x'), 'f.example')).toBe(
      'http://h/ r1:x h9:f.example',
    );
    expect(primaryKey(false, 'h', '/', '', routeKeyPart('x'), 'h')).toBe('http://h/ r1:x');
    expect(pathPartOf(primaryKey(false, 'h', '/p', 'q', routeKeyPart('x'), 'f'))).toBe('/p?q');
  });

  it('secondary key: whitespace and repeated fields normalised; absent differs from empty', () => {
    expect(secondaryKey(['foo'], req({ foo: '1,2' }))).toBe(
      secondaryKey(['foo'], req({ foo: ' 1 , 2 ' })),
    );
    expect(secondaryKey(['foo'], req({ foo: '' }))).not.toBe(secondaryKey(['foo'], req({})));
    expect(secondaryKey(['a', 'b'], req({ a: '1', b: '2' }))).not.toBe(
      secondaryKey(['a', 'b'], req({ a: '12' })),
    );
  });

  it('Accept-Encoding reduces to the coding the gateway would pick', () => {
    const br = secondaryKey(
      ['accept-encoding'],
      req({ 'accept-encoding': 'gzip, deflate, br, zstd' }),
    );
    expect(secondaryKey(['accept-encoding'], req({ 'accept-encoding': 'br' }))).toBe(br);
    expect(secondaryKey(['accept-encoding'], req({ 'accept-encoding': 'gzip' }))).not.toBe(br);
    // Codings the key does not know all mean identity: that is what the upstream is asked for.
    expect(secondaryKey(['accept-encoding'], req({ 'accept-encoding': 'deflate' }))).toBe(
      secondaryKey(['accept-encoding'], req({ 'accept-encoding': 'identity' })),
    );
    expect(secondaryKey(['accept-encoding'], req({ 'accept-encoding': 'deflate' }))).not.toBe(
      secondaryKey(['accept-encoding'], req({})),
    );
  });

  it('API-key consumers get their own variant through the principal pseudo-header', () => {
    const vary = withPrincipalVary(['accept-language']);
    expect(vary).toEqual([PRINCIPAL_VARY, 'accept-language']);
    const alice = req({ 'accept-language': 'en' });
    const bob = req({ 'accept-language': 'en' });
    scopeToPrincipal(alice, 'alice');
    scopeToPrincipal(bob, 'bob');
    expect(secondaryKey(vary, alice)).not.toBe(secondaryKey(vary, bob));
    expect(secondaryKey(vary, alice)).not.toBe(
      secondaryKey(vary, req({ 'accept-language': 'en' })),
    );
  });

  it('purge targets: absolute URLs name one key; paths apply on every host', () => {
    expect(parseTarget('https://Api.Example.com.:443/a?b=1')).toEqual({
      absolute: 'https://api.example.com/a?b=1',
      pathPart: '/a?b=1',
    });
    expect(parseTarget('/a?b=1')).toEqual({ absolute: undefined, pathPart: '/a?b=1' });
    expect(parseTarget('ftp://x/y')).toBeUndefined();
    expect(parseTarget('not a url')).toBeUndefined();
    expect(pathPartOf('http://h.example/a/b?c')).toBe('/a/b?c');
  });
});
