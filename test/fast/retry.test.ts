// One retry policy, with Temporal's semantics, for every place tju retries: the plan, a bulk chunk, hooks.
import type { RetryPolicy } from '@temporalio/common';
import { DEFAULT_UNIT_RETRY, nextRetryDelay, resolveRetry, type AttemptFailure } from '../../src/contracts/retry';

const failure = { type: 'Error' };

it.each<[string, RetryPolicy, number, AttemptFailure, number | undefined]>([
  // policy, failed attempt, failure, wait before the next attempt (undefined: give up)
  ['the first retry waits the initial interval', {}, 1, failure, 1000],
  ['waits grow by the coefficient', { initialInterval: '1s', backoffCoefficient: 3 }, 3, failure, 9000],
  ['up to the maximum interval', { initialInterval: '1s', maximumInterval: '5s' }, 10, failure, 5000],
  ["Temporal's cap without one: 100 × the initial interval", { initialInterval: '10ms' }, 30, failure, 1000],
  ['gives up after the last of maximumAttempts', { maximumAttempts: 3 }, 3, failure, undefined],
  ['but not before it', { maximumAttempts: 3 }, 2, failure, 2000],
  ['0 attempts means unlimited', { maximumAttempts: 0 }, 1000, failure, 100_000],
  ['never retries a type in nonRetryableErrorTypes', { nonRetryableErrorTypes: ['CardDeclined'] }, 1, { type: 'CardDeclined' }, undefined],
  ['never retries NonRetryableError', {}, 1, { type: 'NonRetryableError' }, undefined],
  ['never retries a failure flagged non-retryable', {}, 1, { type: 'Error', nonRetryable: true }, undefined],
  ['durations as numbers are milliseconds', { initialInterval: 250, backoffCoefficient: 2 }, 2, failure, 500],
])('%s', (_, policy, attempt, failed, expected) => {
  expect(nextRetryDelay(policy, attempt, failed)).toBe(expected);
});

it("resolves a unit's policy over tju's defaults, field by field, the batch's job.retry last", () => {
  expect(resolveRetry()).toEqual(DEFAULT_UNIT_RETRY);
  expect(resolveRetry({ maximumAttempts: 7, nonRetryableErrorTypes: ['X'] }, { maximumAttempts: 2, initialInterval: undefined })).toEqual({
    ...DEFAULT_UNIT_RETRY,
    maximumAttempts: 2,
    nonRetryableErrorTypes: ['X'],
  });
  // A resolved policy gives up where tju's default says: after 3 attempts, not never.
  expect(nextRetryDelay(resolveRetry({ initialInterval: '50ms' }), 3, failure)).toBeUndefined();
});
