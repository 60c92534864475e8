import { z } from 'zod';
import { AdminError } from './admin-error';
import { ZodValidationPipe } from './zod-validation.pipe';

describe('ZodValidationPipe', () => {
  const schema = z.strictObject({ ip: z.string(), list: z.array(z.int()).optional() });

  it('should pass valid input through, parsed', () => {
    expect(new ZodValidationPipe(schema).transform({ ip: 'x', list: [1] })).toEqual({
      ip: 'x',
      list: [1],
    });
  });

  it('should throw a 400 naming every bad field', () => {
    let error: unknown;
    try {
      new ZodValidationPipe(schema).transform({ list: [1, 'two'], extra: true });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AdminError);
    const admin = error as AdminError;
    expect(admin.status).toBe(400);
    expect(admin.details.map((d) => d.field).sort()).toEqual(['body', 'body.ip', 'body.list[1]']);
    expect(admin.message).toMatch(/^invalid body: /);
  });

  it('should validate a missing query as an empty object', () => {
    const query = z.object({ ip: z.string().optional() });
    expect(new ZodValidationPipe(query, 'query').transform(undefined)).toEqual({});
  });
});
