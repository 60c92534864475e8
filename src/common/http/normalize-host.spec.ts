import { normalizeAuthority, normalizeHost } from './normalize-host';

describe('normalizeAuthority', () => {
  it('returns an already-normal name as the same string', () => {
    const raw = 'api.example.com';
    expect(normalizeAuthority(raw, 80)).toBe(raw);
    expect(normalizeAuthority('127.0.0.1:9777', 80)).toBe('127.0.0.1:9777');
    expect(normalizeAuthority('api.example.com:65535', 80)).toBe('api.example.com:65535');
    expect(normalizeAuthority('localhost', 80)).toBe('localhost');
    expect(normalizeAuthority('my_service', 80)).toBe('my_service');
    expect(normalizeAuthority('10.0.0.1', 80)).toBe('10.0.0.1');
  });

  it.each([
    ['API.Example.COM', 'api.example.com'],
    ['api.example.com.', 'api.example.com'],
    ['api.example.com:', 'api.example.com'],
    ['api.example.com:80', 'api.example.com'],
    ['api.example.com:0080', 'api.example.com'],
    ['API.example.com.:08080', 'api.example.com:8080'],
    ['api.example.com:443', 'api.example.com:443'],
    ['127.0.0.1:9777', '127.0.0.1:9777'],
    ['[::1]', '[::1]'],
    ['[::1]:8080', '[::1]:8080'],
    ['[0:0:0:0:0:0:0:1]:80', '[::1]'],
    ['[2001:DB8::A]', '[2001:db8::a]'],
    ['[::ffff:127.0.0.1]', '[::ffff:7f00:1]'],
  ])('normalises %j to %j', (raw, expected) => {
    expect(normalizeAuthority(raw, 80)).toBe(expected);
  });

  it('drops the default port of the scheme in use only', () => {
    expect(normalizeAuthority('a.example:443', 443)).toBe('a.example');
    expect(normalizeAuthority('a.example:80', 443)).toBe('a.example:80');
  });

  it.each([
    [''],
    [':80'],
    ['.'],
    ['.example.com'],
    ['a..example.com'],
    ['example.com..'],
    ['gw.example.com/api'],
    ['gw.example.com:@evil.example'],
    ['user@evil.example'],
    ['user:pass@evil.example'],
    ['admin.example.com:80:'],
    ['example.com:80:80'],
    ['example.com:0'],
    ['example.com:65536'],
    ['example.com:99999999'],
    ['example.com:123456'],
    ['example.com:00000'],
    ['example.com:8o'],
    ['example.com: 80'],
    ['example.com:+80'],
    ['example.com:-1'],
    ['a b c'],
    [' example.com'],
    ['example.com '],
    ['ex%61mple.com'],
    ['exa!mple.com'],
    ["ex'ample.com"],
    ['ex;ample.com'],
    ['ex,ample.com'],
    ['example.com?x'],
    ['example.com#x'],
    ['example.com\\x'],
    ['ex\u00e4mple.com'],
    ['ex\u0000ample.com'],
    ['ex\tample.com'],
    ['[::1'],
    ['[::1]x'],
    ['[::1]:'.concat('x')],
    ['::1'],
    ['[fe80::1%25eth0]'],
    ['[fe80::1%eth0]'],
    ['[v1.fe]'],
    ['[127.0.0.1]'],
    ['[]'],
  ])('refuses %j', (raw) => {
    expect(normalizeAuthority(raw, 80)).toBeUndefined();
  });
});

describe('normalizeHost', () => {
  it('strips port, brackets and trailing dot and lower-cases', () => {
    expect(normalizeHost('API.example.com.:8080')).toBe('api.example.com');
    expect(normalizeHost('[::1]:80')).toBe('::1');
    expect(normalizeHost(undefined)).toBe('');
  });
});
