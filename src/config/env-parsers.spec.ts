import {
  closestMatch,
  isValidHostPattern,
  parseHostPattern,
  normalizeHostPattern,
  normalizeUpstream,
  parseAlgorithm,
  parseGoBool,
  parseIpOrCidr,
  parseListenAddress,
  parseLogLevel,
  parseStrictInt,
  splitList,
} from './env-parsers';

describe('parseGoBool', () => {
  it.each(['1', 't', 'T', 'TRUE', 'true', 'True', ' true '])('should read %j as true', (input) => {
    expect(parseGoBool(input)).toBe(true);
  });

  it.each(['0', 'f', 'F', 'FALSE', 'false', 'False'])('should read %j as false', (input) => {
    expect(parseGoBool(input)).toBe(false);
  });

  it.each(['yes', 'no', 'on', 'tRUE', '2', ''])(
    'should reject %j like strconv.ParseBool',
    (input) => {
      expect(() => parseGoBool(input)).toThrow(`invalid boolean ${JSON.stringify(input)}`);
    },
  );
});

describe('parseStrictInt', () => {
  it.each([
    ['42', 42],
    ['-3', -3],
    ['+7', 7],
    [' 8 ', 8],
  ])('should read %j as %d', (input, expected) => {
    expect(parseStrictInt(input)).toBe(expected);
  });

  it.each(['5.0', '1e3', '0x10', '', '12abc', '99999999999999999999'])(
    'should reject %j',
    (input) => {
      expect(() => parseStrictInt(input)).toThrow('invalid integer');
    },
  );
});

describe('parseListenAddress', () => {
  it.each([
    [':9777', { host: '0.0.0.0', port: 9777 }],
    ['9777', { host: '0.0.0.0', port: 9777 }],
    ['0.0.0.0:9777', { host: '0.0.0.0', port: 9777 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['localhost:8080', { host: 'localhost', port: 8080 }],
    ['[::]:9777', { host: '::', port: 9777 }],
    ['[::1]:80', { host: '::1', port: 80 }],
  ])('should parse %j', (input, expected) => {
    expect(parseListenAddress(input)).toEqual(expected);
  });

  it.each([
    ['99999', 'invalid port "99999" (expected 0-65535)'],
    [':65536', 'invalid port "65536" (expected 0-65535)'],
    [':', 'invalid address ":" (missing port, e.g. ":9777")'],
    ['127.0.0.1', 'invalid address "127.0.0.1" (missing port, e.g. ":9777")'],
    ['::1:80', 'write IPv6 hosts in brackets'],
    ['[::1]', 'expected "[ipv6]:port"'],
    ['bad host:80', 'bad host "bad host"'],
    [':-1', 'invalid port "-1"'],
  ])('should reject %j', (input, message) => {
    expect(() => parseListenAddress(input)).toThrow(message);
  });
});

describe('splitList', () => {
  it('should split on commas, spaces, tabs and newlines and drop empty items', () => {
    expect(splitList(' a, b\tc\n\nd,,e ')).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(splitList('   ')).toEqual([]);
  });
});

describe('parseIpOrCidr', () => {
  it.each(['10.0.0.1', '10.0.0.0/8', '0.0.0.0/0', '::1', 'fd00::/8', '2001:db8::/128'])(
    'should accept %j',
    (input) => {
      expect(parseIpOrCidr(` ${input} `)).toBe(input);
    },
  );

  it.each([
    ['foo', 'invalid IP address or CIDR "foo"'],
    ['10.0.0.256', 'invalid IP address or CIDR'],
    ['10.0.0.0/33', 'prefix length must be 0-32 for IPv4'],
    ['::/129', 'prefix length must be 0-128 for IPv6'],
    ['10.0.0.0/', 'invalid CIDR'],
    ['10.0.0.0/x', 'invalid CIDR'],
  ])('should reject %j', (input, message) => {
    expect(() => parseIpOrCidr(input)).toThrow(message);
  });
});

describe('normalizeHostPattern', () => {
  it.each([
    ['API.Example.COM', 'api.example.com'],
    ['  api.example.com  ', 'api.example.com'],
    ['api.example.com:8080', 'api.example.com'],
    ['api.example.com.', 'api.example.com'],
    ['[::1]:443', '::1'],
    ['[::1]', '::1'],
    ['::1', '::1'],
    ['*.example.com', '*.example.com'],
    ['*', ''],
    ['', ''],
  ])('should normalise %j to %j', (input, expected) => {
    expect(normalizeHostPattern(input)).toBe(expected);
  });

  it('should accept host names, IPs and *. wildcards but not other patterns', () => {
    expect(
      ['', 'a.example.com', '10.0.0.1', '::1', '*.example.com'].every(isValidHostPattern),
    ).toBe(true);
    expect(['*example.com', 'a b', 'a/b', '*.', 'a..b'].some(isValidHostPattern)).toBe(false);
  });
});

describe('parseHostPattern', () => {
  it.each([
    ['API.Example.com:8443', 'api.example.com'],
    ['*.example.com', '*.example.com'],
    ['[::1]:443', '::1'],
    ['10.0.0.1', '10.0.0.1'],
    ['', ''],
  ])('should accept %j as %j', (input, expected) => {
    expect(parseHostPattern(input)).toBe(expected);
  });

  it.each([
    [
      'https://billing.example.com',
      '"https://billing.example.com" is a URL; write the host alone: "billing.example.com" (the path goes in prefix)',
    ],
    ['http://u:p@b.example.com:80/x', 'is a URL; write the host alone: "b.example.com:80"'],
    ['billing.example.com/api', 'has a path; write the host alone: "billing.example.com"'],
    ['/api', '"/api" has a path; write the host alone (the path goes in prefix)'],
    ['b.example.com?x', 'has a path'],
    ['ops@b.example.com', 'contains credentials'],
    ['b example.com', 'contains spaces'],
    ['b.example.com:0', 'port must be 1-65535, got 0'],
    ['b.example.com:65536', 'port must be 1-65535, got 65536'],
    ['b.example.com:', 'has an invalid port ""'],
    ['[::1]:x', 'has an invalid port "x"'],
    ['*example.com', 'invalid host pattern'],
  ])('should refuse %j', (input, message) => {
    expect(() => parseHostPattern(input)).toThrow(message);
  });
});

describe('normalizeUpstream', () => {
  it.each([
    ['10.0.0.5:8080', 'http://10.0.0.5:8080'],
    ['example.com', 'http://example.com'],
    [' http://example.com/ ', 'http://example.com'],
    ['HTTPS://Example.com:443/v1', 'https://example.com/v1'],
    ['https://h/v1?x=1', 'https://h/v1?x=1'],
    ['http://[::1]:3000', 'http://[::1]:3000'],
  ])('should normalise %j to %j', (input, expected) => {
    expect(normalizeUpstream(input)).toBe(expected);
  });

  it.each([
    ['', 'empty upstream URL'],
    ['   ', 'empty upstream URL'],
    ['ftp://files.example.com', 'scheme must be http or https, not ftp'],
    ['http://', 'not a URL'],
    ['localhost:abc', 'not a URL'],
    ['http://user:pw@example.com', 'credentials in upstream URLs are not supported'],
    ['http://example.com/#top', 'fragments are never sent upstream'],
  ])('should reject %j', (input, message) => {
    expect(() => normalizeUpstream(input)).toThrow(message);
  });

  it('should never repeat the password or query values it refuses in its message', () => {
    expect(() => normalizeUpstream('http://user:s3cret@example.com/v1?key=K')).toThrow(
      'invalid upstream URL "http://***@example.com/v1?key=***" (credentials in upstream URLs are not supported)',
    );
  });
});

describe('parseLogLevel', () => {
  it.each([
    ['DEBUG', 'debug'],
    ['INFO', 'info'],
    ['WARN', 'warn'],
    ['warning', 'warn'],
    [' Error ', 'error'],
    ['trace', 'trace'],
    ['silent', 'silent'],
  ])('should read %j as %j', (input, expected) => {
    expect(parseLogLevel(input)).toBe(expected);
  });

  it('should reject unknown levels', () => {
    expect(() => parseLogLevel('verbose')).toThrow(
      'unknown level "verbose" (expected trace|debug|info|warn|error|fatal|silent)',
    );
  });
});

describe('parseAlgorithm', () => {
  it('should accept the four algorithms case-insensitively', () => {
    expect(parseAlgorithm(' Round-Robin ')).toBe('round-robin');
    expect(parseAlgorithm('weighted')).toBe('weighted');
  });

  it('should reject unknown algorithms', () => {
    expect(() => parseAlgorithm('fastest')).toThrow(
      'unknown algorithm "fastest" (expected round-robin|least-conn|ip-hash|weighted)',
    );
  });
});

describe('closestMatch', () => {
  it('should suggest a close candidate and nothing for distant words', () => {
    expect(closestMatch('URLL', ['URL', 'TARGETS'])).toBe('URL');
    expect(closestMatch('prot', ['port', 'host'])).toBe('port');
    expect(closestMatch('banana', ['URL', 'TARGETS'])).toBeUndefined();
  });
});
