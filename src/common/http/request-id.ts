import { randomUUID } from 'node:crypto';

const SANE_ID = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Honours a client's `X-Request-Id` only when it is short and harmless (no spaces, CR/LF or
 * quotes that could forge log lines or headers); otherwise mints one.
 */
export function resolveRequestId(header: string | string[] | undefined): string {
  if (typeof header === 'string' && SANE_ID.test(header)) {
    return header;
  }
  return randomUUID();
}
