// A mistake in the command line or its environment (exit code 2), as opposed
// to a failure or damage (exit code 1).

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** fn's result; what it throws (a check of options or variables) as a UsageError. */
export function asUsage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw e instanceof UsageError ? e : new UsageError(e instanceof Error ? e.message : String(e));
  }
}
