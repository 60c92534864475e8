import { maskUrl, maskUrlsDeep, urlLabel } from './url-display';

describe('urlLabel', () => {
  it('should keep scheme, host, port and path only', () => {
    expect(urlLabel('https://user:pw@api.example.com:8443/v1/x?key=SECRET#f')).toBe(
      'https://api.example.com:8443/v1/x',
    );
    expect(urlLabel('http://10.0.0.5:3000')).toBe('http://10.0.0.5:3000/');
    expect(urlLabel('http://[::1]:8080/a?b')).toBe('http://[::1]:8080/a');
    expect(urlLabel('not a url')).toBe('***');
  });
});

describe('maskUrl', () => {
  it('should mask userinfo and every query value, keeping the keys', () => {
    expect(maskUrl('https://user:pw@api.example.com:8443/v1?key=SECRET&region=eu#frag')).toBe(
      'https://***@api.example.com:8443/v1?key=***&region=***',
    );
    expect(maskUrl('redis://secret@h:6379/0')).toBe('redis://***@h:6379/0');
    expect(maskUrl('redis://:pw@h:6379')).toBe('redis://***@h:6379');
    expect(maskUrl('http://h/?TOKEN123&a=')).toBe('http://h/?***&a=***');
    expect(maskUrl('http://10.0.0.5:3000/v2')).toBe('http://10.0.0.5:3000/v2');
    expect(maskUrl('http://10.0.0.5:3000')).toBe('http://10.0.0.5:3000');
    expect(maskUrl('http://h/x#top')).toBe('http://h/x');
    expect(maskUrl('::nope::')).toBe('***');
  });
});

describe('maskUrlsDeep', () => {
  it('should mask every URL string at any depth and leave everything else alone', () => {
    const at = new Date(0);
    expect(
      maskUrlsDeep({
        route: { target_url: 'http://u:p@h:1/x?key=s', targets: ['http://h:2/?t=1'], n: 3 },
        note: 'not a url ?key=s',
        when: at,
        none: null,
      }),
    ).toEqual({
      route: { target_url: 'http://***@h:1/x?key=***', targets: ['http://h:2/?t=***'], n: 3 },
      note: 'not a url ?key=s',
      when: at,
      none: null,
    });
  });
});
