import { errorMessage, ValueErrors } from '../env-parsers';

/**
 * Every problem and warning of one load, in the order found. Nothing stops at the first problem:
 * an operator fixes everything in one pass.
 */
export class Report {
  readonly problems: string[] = [];
  readonly warnings: string[] = [];

  problem(label: string, message: string): void {
    this.problems.push(`${label}: ${message}`);
  }

  warn(message: string): void {
    this.warnings.push(message);
  }

  /**
   * Runs `parse`; a thrown error becomes a problem under `label` and the result is undefined.
   * `label` may be a function, called only then (labels of 20,000 routes add up).
   */
  attempt<T>(label: string | (() => string), parse: () => T): T | undefined {
    try {
      return parse();
    } catch (error) {
      const messages = error instanceof ValueErrors ? error.messages : [errorMessage(error)];
      const at = typeof label === 'string' ? label : label();
      for (const message of messages) {
        this.problem(at, message);
      }
      return undefined;
    }
  }
}
