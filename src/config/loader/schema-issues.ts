/** Schema validation with every problem reported, and what is still valid kept for checking. */
import { z } from 'zod';
import { closestMatch } from '../env-parsers';
import type { Report } from './report';

export type PathSegment = PropertyKey;

export interface Lenient<T> {
  value: T;
  /** Keys left out because their value was invalid. */
  dropped: ReadonlySet<string>;
}

/**
 * Parses an object; when only some of its keys are invalid, parses it again without them. The rest
 * (other settings, a route's upstream URLs, host/prefix conflicts) is then still checked in the same
 * run. The caller reports the schema issues.
 */
export function parseLeniently<T>(schema: z.ZodType<T>, item: unknown): Lenient<T> | undefined {
  const first = schema.safeParse(item);
  if (first.success) {
    return { value: first.data, dropped: new Set() };
  }
  if (!isPlainObject(item)) {
    return undefined;
  }
  const dropped = new Set<string>();
  for (const issue of first.error.issues) {
    if (issue.code === 'unrecognized_keys' && issue.path.length === 0) {
      issue.keys.forEach((key) => dropped.add(key));
    } else if (issue.path.length > 0) {
      dropped.add(String(issue.path[0]));
    }
  }
  const rest = Object.fromEntries(Object.entries(item).filter(([key]) => !dropped.has(key)));
  const second = schema.safeParse(rest);
  return second.success ? { value: second.data, dropped } : undefined;
}

/** Turns schema issues into problem lines; unknown keys get a "did you mean" hint. */
export function reportIssues(
  error: z.ZodError,
  schema: z.ZodType,
  label: (path: readonly PathSegment[]) => string,
  report: Report,
): void {
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, issue.path);
      for (const key of issue.keys) {
        const hint = closestMatch(key, known);
        report.problems.push(
          `${label([...issue.path, key])}: unknown key${hint === undefined ? '' : ` (did you mean "${hint}"?)`}`,
        );
      }
    } else {
      report.problems.push(
        `${label(issue.path)}: ${issue.message.replace(/^Invalid input: /, '')}`,
      );
    }
  }
}

function knownKeysAt(schema: z.ZodType, path: readonly PathSegment[]): string[] {
  let current: z.ZodType | undefined = schema;
  for (const segment of path) {
    current = unwrapOptional(current);
    if (current instanceof z.ZodObject) {
      current = (current.shape as Record<string, z.ZodType | undefined>)[String(segment)];
    } else if (current instanceof z.ZodArray) {
      current = current.element as z.ZodType;
    } else {
      return [];
    }
    if (current === undefined) {
      return [];
    }
  }
  current = unwrapOptional(current);
  return current instanceof z.ZodObject ? Object.keys(current.shape) : [];
}

function unwrapOptional(schema: z.ZodType): z.ZodType {
  let current = schema;
  while (current instanceof z.ZodOptional) {
    current = current.unwrap() as z.ZodType;
  }
  return current;
}

/** `['routes', 0, 'targets', 1]` → `routes[0].targets[1]`; a leading index gives `[2].name`. */
export function formatPath(path: readonly PathSegment[]): string {
  return path
    .map((segment, index) =>
      typeof segment === 'number'
        ? `[${segment}]`
        : index === 0
          ? String(segment)
          : `.${String(segment)}`,
    )
    .join('');
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
