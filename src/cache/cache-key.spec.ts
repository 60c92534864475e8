import { parseTarget, pathPartOf, primaryKey, secondaryKey } from './cache-key';

describe('cache keys', () => {
  it('primary key: scheme, normalised host, path and query; method-independent', () => {
    expect(primaryKey(false, 'API.Example.com:8080', '/a/b', 'x=1')).toBe(
      'http://api.example.com/a/b?x=1',
    );
    expect(primaryKey(true, 'api.example.com', '/a', '')).toBe('https://api.example.com/a');
  });

  it('secondary key: whitespace and repeated fields normalised; absent differs from empty', () => {
    expect(secondaryKey(['foo'], { foo: '1,2' })).toBe(secondaryKey(['foo'], { foo: ' 1 , 2 ' }));
    expect(secondaryKey(['foo'], { foo: '' })).not.toBe(secondaryKey(['foo'], {}));
    expect(secondaryKey(['a', 'b'], { a: '1', b: '2' })).not.toBe(
      secondaryKey(['a', 'b'], { a: '12' }),
    );
  });

  it('Accept-Encoding reduces to the coding the gateway would pick', () => {
    const br = secondaryKey(['accept-encoding'], { 'accept-encoding': 'gzip, deflate, br, zstd' });
    expect(secondaryKey(['accept-encoding'], { 'accept-encoding': 'br' })).toBe(br);
    expect(secondaryKey(['accept-encoding'], { 'accept-encoding': 'gzip' })).not.toBe(br);
    // Codings the gateway does not produce stay distinct, since the upstream may use them.
    expect(secondaryKey(['accept-encoding'], { 'accept-encoding': 'deflate' })).not.toBe(
      secondaryKey(['accept-encoding'], {}),
    );
  });

  it('purge targets: absolute URLs name one key; paths apply on every host', () => {
    expect(parseTarget('https://Api.Example.com/a?b=1')).toEqual({
      absolute: 'https://api.example.com/a?b=1',
      pathPart: '/a?b=1',
    });
    expect(parseTarget('/a?b=1')).toEqual({ absolute: undefined, pathPart: '/a?b=1' });
    expect(parseTarget('ftp://x/y')).toBeUndefined();
    expect(parseTarget('not a url')).toBeUndefined();
    expect(pathPartOf('http://h.example/a/b?c')).toBe('/a/b?c');
  });
});
