import { STATUS_CODES } from 'node:http';

/** One field-level validation message: `field` is a dotted path (`body.routes[0].prefix`). */
export interface FieldProblem {
  field: string;
  message: string;
}

/**
 * An admin API error with what the client can act on: an optional list of field problems, and
 * headers (`Retry-After`, `WWW-Authenticate`). Rendered by `AdminExceptionFilter` in the
 * gateway's JSON error shape, plus `details` when there are field problems.
 */
export class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: readonly FieldProblem[] = [],
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }

  get errorName(): string {
    return STATUS_CODES[this.status] ?? 'Error';
  }
}

export const badRequest = (message: string, details: readonly FieldProblem[] = []): AdminError =>
  new AdminError(400, message, details);
export const notFound = (message: string): AdminError => new AdminError(404, message);
export const conflict = (message: string): AdminError => new AdminError(409, message);

/** `routes[0].prefix: invalid prefix` → `{field: 'routes[0].prefix', message: 'invalid prefix'}`. */
export function problemToField(problem: string): FieldProblem {
  const at = problem.indexOf(': ');
  return at < 0
    ? { field: '', message: problem }
    : { field: problem.slice(0, at), message: problem.slice(at + 2) };
}
