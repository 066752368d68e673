// Retry policies, with Temporal's semantics, in one place: the plan resolves a unit's policy with these defaults,
// Temporal retries local and regular activities by it, and a bulk chunk and hook delivery apply the same
// function to the same policy. Plain code: it runs in the workflow sandbox too.
import type { Duration, RetryPolicy } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';

/** A unit's retry policy where neither the unit nor its batch says otherwise. */
export const DEFAULT_UNIT_RETRY = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '1m',
  maximumAttempts: 3,
} as const;

/** Every field a retry policy can leave out, resolved: what a unit's job carries. */
export type ResolvedRetry = Required<Pick<RetryPolicy, 'initialInterval' | 'backoffCoefficient' | 'maximumInterval' | 'maximumAttempts'>> &
  Pick<RetryPolicy, 'nonRetryableErrorTypes'>;

/** tju's defaults, then each policy over them, field by field: the unit's, then its batch's `job.retry`. */
export function resolveRetry(...policies: Array<RetryPolicy | undefined>): ResolvedRetry {
  const merged: RetryPolicy = { ...DEFAULT_UNIT_RETRY };
  for (const policy of policies) {
    for (const [field, value] of Object.entries(policy ?? {})) if (value !== undefined) Object.assign(merged, { [field]: value });
  }
  return merged as ResolvedRetry;
}

/** An attempt's failure as a retry policy reads it: its error type, and whether it said "do not retry". */
export interface AttemptFailure {
  type: string;
  nonRetryable?: boolean;
}

/** The error type tju's units throw for a failure no retry can fix: never retried, whatever the policy. */
export const NON_RETRYABLE_ERROR = 'NonRetryableError';

/**
 * After attempt `attempt` (1 for the first) failed: how long to wait before the next, or undefined when the
 * policy gives up — a non-retryable failure (flagged, `NonRetryableError`, or a type in `nonRetryableErrorTypes`),
 * or the last of `maximumAttempts` (0 means unlimited). Waits grow from `initialInterval` by `backoffCoefficient`
 * up to `maximumInterval`, as Temporal's do. Fields the policy leaves out take Temporal's own defaults.
 */
export function nextRetryDelay(policy: RetryPolicy, attempt: number, failure: AttemptFailure): number | undefined {
  if (failure.nonRetryable || failure.type === NON_RETRYABLE_ERROR || policy.nonRetryableErrorTypes?.includes(failure.type))
    return undefined;
  const maximumAttempts = policy.maximumAttempts ?? 0;
  if (maximumAttempts > 0 && attempt >= maximumAttempts) return undefined;
  const initial = ms(policy.initialInterval, 1000);
  const maximum = ms(policy.maximumInterval, initial * 100);
  return Math.min(initial * (policy.backoffCoefficient ?? 2) ** (attempt - 1), maximum);
}

const ms = (duration: Duration | undefined, fallback: number): number => (duration === undefined ? fallback : msToNumber(duration));
