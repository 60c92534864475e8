import type { PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { badRequest } from './admin-error';

/**
 * Validates a body or query with a zod schema; a failure is a 400 whose `details` name every bad
 * field (`body.ip`, `query.ttl`), so a script can point at its own mistake.
 */
export class ZodValidationPipe<T extends z.ZodType> implements PipeTransform<unknown, z.infer<T>> {
  constructor(
    private readonly schema: T,
    private readonly where: 'body' | 'query' = 'body',
  ) {}

  transform(value: unknown): z.infer<T> {
    const result = this.schema.safeParse(value ?? (this.where === 'body' ? undefined : {}));
    if (result.success) {
      return result.data;
    }
    const details = result.error.issues.map((issue) => ({
      field: [this.where, ...issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))]
        .join('.')
        .replace(/\.\[/g, '['),
      message: issue.message.replace(/^Invalid input: /, ''),
    }));
    throw badRequest(
      `invalid ${this.where}: ${details.map((d) => `${d.field}: ${d.message}`).join('; ')}`,
      details,
    );
  }
}
