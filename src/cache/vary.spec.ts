import {
  contentLanguageOf,
  normaliseAcceptLanguage,
  normaliseList,
  normaliseSelecting,
  selectLanguage,
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
