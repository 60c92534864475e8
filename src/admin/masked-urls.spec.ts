import { AdminError } from './admin-error';
import { hasMaskedUrl, unmaskRouteEntry, unmaskUrl } from './masked-urls';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('unmaskUrl', () => {
  const configured = [
    'https://maps.example.com/v1?key=K1',
    'https://maps.example.com/v1?key=K2',
    'https://geo.example.com/?token=T',
  ];

  it('should leave URLs that show nothing masked as they are', () => {
    expect(unmaskUrl('https://new.example.com/?key=K3', configured, 'f')).toBe(
      'https://new.example.com/?key=K3',
    );
    expect(unmaskUrl('http://h:1/', configured, 'f')).toBe('http://h:1/');
  });

  it('should resolve a masked URL to the one configured URL it was shown for', () => {
    expect(unmaskUrl('https://geo.example.com/?token=***', configured, 'f')).toBe(
      'https://geo.example.com/?token=T',
    );
  });

  it("should prefer the route's own upstreams, and refuse an ambiguous or unknown masked URL", () => {
    const masked = 'https://maps.example.com/v1?key=***';
    expect(unmaskUrl(masked, configured, 'f', [configured[1]])).toBe(configured[1]);
    expect(() => unmaskUrl(masked, configured, 'body.target_url')).toThrow(AdminError);
    const unknown = thrown(() =>
      unmaskUrl('https://other.example.com/?key=***', configured, 'body.targets[0]'),
    );
    expect(unknown).toBeInstanceOf(AdminError);
    expect((unknown as AdminError).status).toBe(400);
    expect((unknown as AdminError).details).toEqual([
      expect.objectContaining({ field: 'body.targets[0]' }),
    ]);
  });
});

describe('unmaskRouteEntry', () => {
  it('should resolve target_url and targets of an edited route', () => {
    const current = {
      name: 'maps',
      prefix: '/maps',
      target_url: 'https://maps.example.com/v1?key=K1',
      targets: [
        'https://maps2.example.com/v1?key=K9',
        { url: 'https://maps3.example.com/v1?key=K8', failure_statuses: [429] },
      ],
    };
    expect(
      unmaskRouteEntry(
        {
          prefix: '/maps',
          target_url: 'https://maps.example.com/v1?key=***',
          targets: [
            'https://maps2.example.com/v1?key=***',
            'http://plain:1/',
            { url: 'https://maps3.example.com/v1?key=***', failure_statuses: [429] },
          ],
        },
        [current],
        current,
      ),
    ).toEqual({
      prefix: '/maps',
      target_url: 'https://maps.example.com/v1?key=K1',
      targets: [
        'https://maps2.example.com/v1?key=K9',
        'http://plain:1/',
        { url: 'https://maps3.example.com/v1?key=K8', failure_statuses: [429] },
      ],
    });
  });
});

describe('hasMaskedUrl', () => {
  it('should tell an entry that may send a masked URL (the table is listed only then)', () => {
    expect(hasMaskedUrl({ prefix: '/a', target_url: 'http://a:1/?key=K' })).toBe(false);
    expect(hasMaskedUrl({ prefix: '/a', target_url: 'http://a:1/?key=***' })).toBe(true);
    expect(hasMaskedUrl({ prefix: '/a', targets: ['http://a:1/', 'http://***:***@b:1/'] })).toBe(
      true,
    );
    expect(
      hasMaskedUrl({
        prefix: '/a',
        targets: [{ url: 'http://b:1/?t=***', failure_statuses: [500] }],
      }),
    ).toBe(true);
    expect(hasMaskedUrl({ prefix: '/a', targets: [{ url: 'http://b:1/' }] })).toBe(false);
  });
});
