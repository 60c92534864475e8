import type { IncomingMessage } from 'node:http';
import {
  conditionalHeaders,
  contentLanguageOf,
  normaliseAcceptLanguage,
  normaliseList,
  normaliseSelecting,
  selectLanguage,
  useStoredSelecting,
} from './vary';

describe('selecting-field normalisation (RFC 9111 §4.1)', () => {
  it('lists: repeated lines joined, optional whitespace dropped', () => {
    expect(normaliseList(' 1, 2 ')).toBe('1,2');
    expect(normaliseList('1,2')).toBe('1,2');
    expect(normaliseList('1 ,\t2')).toBe('1,2');
    expect(normaliseList('a  b')).toBe('a b');
    expect(normaliseList('1,2')).not.toBe(normaliseList('2,1'));
  });

  it('Accept-Language: without case, order or whitespace differences', () => {
    const forms = ['en, de', 'de, en', 'eN, De', ' en ,   de', 'en;q=1, de;q=1.0'];
    for (const form of forms) {
      expect(normaliseAcceptLanguage(form)).toBe('de,en');
    }
    expect(normaliseAcceptLanguage('fr;q=0.5, de;q=1.0')).toBe('de,fr;q=0.5');
    expect(normaliseAcceptLanguage('en, de;q=0.5')).not.toBe(
      normaliseAcceptLanguage('de, en;q=0.5'),
    );
  });

  it('dispatches by field name', () => {
    expect(normaliseSelecting('accept-language', 'EN')).toBe('en');
    expect(normaliseSelecting('foo', 'EN ,x')).toBe('EN,x');
  });
});

describe('Accept-Language selected by q-value against Content-Language', () => {
  it('picks a stored language from the most preferred group only', () => {
    expect(selectLanguage('fr;q=0.5, de;q=1.0', ['de'])).toBe('de');
    expect(selectLanguage('en, de', ['de'])).toBe('de');
    expect(selectLanguage('de', ['de-ch'])).toBe('de-ch');
    expect(selectLanguage('*', ['fr'])).toBe('fr');
    expect(selectLanguage('en, de;q=0.9', ['de'])).toBeUndefined();
    expect(selectLanguage('de;q=0', ['de'])).toBeUndefined();
    expect(selectLanguage('de-ch', ['de'])).toBeUndefined();
  });

  it('reads one Content-Language tag, lower-cased', () => {
    expect(contentLanguageOf(['Content-Language', 'DE'])).toBe('de');
    expect(contentLanguageOf(['content-language', 'de, en'])).toBeUndefined();
    expect(contentLanguageOf([])).toBeUndefined();
  });
});

describe('validating a stored variant (RFC 9111 §4.3.1)', () => {
  it('the gateway decides only the validators; selecting fields replace the client fields', () => {
    const entry = {
      etag: '"v1"',
      lastModified: undefined,
      selecting: [
        ['accept-language', 'en, de'],
        ['x-forwarded-host', 'stored.example'],
      ] as [string, string][],
    };
    expect(conditionalHeaders(entry)).toEqual({ 'if-none-match': '"v1"' });
    const req = {
      headers: { 'accept-language': 'DE ,en', foo: '1' },
    } as unknown as IncomingMessage;
    useStoredSelecting(req, entry);
    // Only fields the client sent are replaced: they then pass the request-header rules as theirs.
    expect(req.headers).toEqual({ 'accept-language': 'en, de', foo: '1' });
  });
});
