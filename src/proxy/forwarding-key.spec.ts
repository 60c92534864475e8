import { DEFAULT_STRIP_CLIENT_HEADERS } from '../common/http/forwarding-headers';
import { compileForwardingKeyRules, forwardingKeyFields } from './forwarding-key';

describe('forwardingKeyFields', () => {
  const defaults = compileForwardingKeyRules(DEFAULT_STRIP_CLIENT_HEADERS);

  it('keys nothing for untrusted clients by default: those headers never go upstream', () => {
    expect(forwardingKeyFields({ 'x-forwarded-prefix': '/p' }, false, defaults)).toBe('');
    expect(forwardingKeyFields({ 'x-http-method-override': 'DELETE' }, false, defaults)).toBe('');
  });

  it("keys a trusted proxy's URL-shaping headers in a fixed order, length-prefixed", () => {
    const a = forwardingKeyFields(
      { 'x-forwarded-scheme': 'https', 'x-forwarded-prefix': '/p' },
      true,
      defaults,
    );
    const b = forwardingKeyFields(
      { 'x-forwarded-prefix': '/p', 'x-forwarded-scheme': 'https' },
      true,
      defaults,
    );
    expect(a).toBe(b);
    expect(a).toBe(' f18:x-forwarded-prefix2:/p f18:x-forwarded-scheme5:https');
    // Client addresses are not keyed (like X-Forwarded-For).
    expect(forwardingKeyFields({ 'true-client-ip': '1.2.3.4' }, true, defaults)).toBe('');
  });

  it('refuses to key a method override: the answer is not cached', () => {
    expect(forwardingKeyFields({ 'x-http-method-override': 'DELETE' }, true, defaults)).toBe(
      undefined,
    );
  });

  it('keys what the operator lets through from any client', () => {
    const rules = compileForwardingKeyRules(
      DEFAULT_STRIP_CLIENT_HEADERS.filter((h) => h !== 'x-forwarded-prefix'),
    );
    expect(forwardingKeyFields({ 'x-forwarded-prefix': '/p' }, false, rules)).toBe(
      ' f18:x-forwarded-prefix2:/p',
    );
  });
});
