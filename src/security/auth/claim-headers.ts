import type { ForwardedClaim } from '../../config/gateway-config.types';

/** Longest claim value forwarded; longer ones are left out rather than bloating every request. */
const MAX_VALUE_LENGTH = 4096;
/** Printable ASCII and tab: nothing an upstream could read as a second header or line. */
const SAFE_VALUE = /^[\t\x20-\x7e]*$/;

/**
 * The upstream headers for a verified token's claims (`JWT_FORWARD_CLAIMS`). Strings are sent
 * as they are, numbers and booleans as text, arrays of those joined with `,` (e.g. roles).
 * Objects, non-ASCII text and over-long values are left out: there is no unambiguous header form
 * for them, and an upstream must never see a half-encoded identity.
 */
export function claimHeaders(
  claims: Readonly<Record<string, unknown>>,
  forwarded: readonly ForwardedClaim[],
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const { claim, header } of forwarded) {
    const value = headerValue(claims[claim]);
    if (value !== undefined) {
      headers[header] = value;
    }
  }
  return headers;
}

function headerValue(value: unknown): string | undefined {
  let text: string;
  if (typeof value === 'string') {
    text = value;
  } else if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') {
    text = String(value);
  } else if (
    Array.isArray(value) &&
    value.every((item) => typeof item === 'string' || typeof item === 'number')
  ) {
    text = value.join(',');
  } else {
    return undefined;
  }
  return text.length <= MAX_VALUE_LENGTH && SAFE_VALUE.test(text) ? text : undefined;
}
