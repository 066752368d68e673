import { BREAKER_OPEN } from './contracts/details';
/**
 * A mistake by the person running tju (bad flag, bad param, unreachable server).
 * The CLI prints its message as one line and exits 2; no stack trace.
 */
export class UserError extends Error {
  override name = 'UserError';
}

/** A server that does not answer (yet): a worker starting up may wait for it. */
export class UnreachableError extends UserError {
  override name = 'UnreachableError';
}

/**
 * Thrown by a Unit for a business reason that no retry can fix ("subscription cancelled").
 * The job records it as a failure at once instead of retrying.
 */
export class NonRetryableError extends Error {
  override name = 'NonRetryableError';
}

/** Runs a check of a batch's own definition inside a job or trigger: its mistake fails at once, as no retry helps. */
export function nonRetryable<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    throw new NonRetryableError((err as Error).message);
  }
}

/**
 * An attempt a unit's open circuit breaker refused: not the target's failure. Whatever schedules the unit waits
 * `retryAfterMs` and tries again, without counting an attempt.
 */
export class BreakerOpenError extends Error {
  override name = BREAKER_OPEN;
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}
