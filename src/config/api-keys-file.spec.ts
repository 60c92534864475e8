import { createHash } from 'node:crypto';
import { parseApiKeysFile, sha256Hex } from './api-keys-file';

const HASH = 'A'.repeat(64);
const PLAIN = 'Zm9vYmFyYmF6cXV4cXV1eHF1dXpx';

describe('parseApiKeysFile', () => {
  it('should read hash lines, plain-key lines, names and rate limits', () => {
    const text = [
      '# managed by ops',
      '',
      `${HASH} billing 50/100`,
      `${PLAIN} mobile-app   # the iOS app`,
      `${sha256Hex('another-long-key-xyz')} 5/10`,
      '   ',
      `${'b'.repeat(64)}`,
    ].join('\r\n');

    expect(parseApiKeysFile(text)).toEqual({
      keys: [
        { hash: 'a'.repeat(64), name: 'billing', rateLimit: { rate: 50, burst: 100 } },
        { hash: createHash('sha256').update(PLAIN).digest('hex'), name: 'mobile-app' },
        { hash: sha256Hex('another-long-key-xyz'), rateLimit: { rate: 5, burst: 10 } },
        { hash: 'b'.repeat(64) },
      ],
      errors: [],
      plainKeys: 1,
    });
  });

  it('should read the admin scope as the last field, and refuse unknown scopes', () => {
    const parsed = parseApiKeysFile(
      [
        `${HASH} ops 5/10 scopes=admin`,
        `${'c'.repeat(64)} scopes=admin`,
        `${'d'.repeat(64)} scopes=root`,
      ].join('\n'),
    );
    expect(parsed.keys).toEqual([
      { hash: 'a'.repeat(64), name: 'ops', rateLimit: { rate: 5, burst: 10 }, admin: true },
      { hash: 'c'.repeat(64), admin: true },
    ]);
    expect(parsed.errors).toEqual(['line 3: unknown scope (known: admin)']);
  });

  it('should keep a # inside a key', () => {
    expect(parseApiKeysFile('abc#def-ghi-jkl-mno').keys).toEqual([
      { hash: sha256Hex('abc#def-ghi-jkl-mno') },
    ]);
  });

  it('should report each bad line without echoing key material', () => {
    const text = [
      'short',
      `${PLAIN} name 5/10 extra`,
      `${PLAIN}x bad/name!`,
      `${PLAIN}y 0/10`,
      `${PLAIN}z 5/10 name`,
      `${PLAIN} dup`,
      `${PLAIN} dup-again`,
      `${HASH} dup`,
      `${PLAIN}é`,
    ].join('\n');

    const { errors, keys } = parseApiKeysFile(text);

    expect(errors).toEqual([
      'line 1: plain key shorter than 16 characters; use a random key (e.g. `openssl rand -base64 32`)',
      'line 2: expected `<sha256-hex-or-key> [name] [rate/burst] [scopes=admin]`, got 4 fields',
      'line 3: field 2 is not a name (letters, digits, ._:@-; at most 64) or a rate limit (rate/burst, e.g. 10/20)',
      'line 4: rate limit must be at least 1/1, got "0/10"',
      'line 5: field 2 is not a name (letters, digits, ._:@-; at most 64)',
      'line 7: same key as line 6',
      'line 8: name "dup" is already used on line 6',
      'line 9: the key contains characters that cannot be sent in an X-API-Key header',
    ]);
    expect(errors.join('\n')).not.toContain(PLAIN);
    expect(keys).toHaveLength(1);
  });

  it('should accept an empty file', () => {
    expect(parseApiKeysFile('# nothing yet\n')).toEqual({ keys: [], errors: [], plainKeys: 0 });
  });
});
