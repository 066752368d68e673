/**
 * A mistake by the person running tju (bad flag, bad param, unreachable server).
 * The CLI prints its message as one line and exits 2; no stack trace.
 */
export class UserError extends Error {
  override name = 'UserError';
}

/**
 * Thrown by a Unit for a business reason that no retry can fix ("subscription cancelled").
 * The job records it as a failure at once instead of retrying.
 */
export class NonRetryableError extends Error {
  override name = 'NonRetryableError';
}
