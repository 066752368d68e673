import {
  ActivityFailure,
  ApplicationFailure,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  TemporalFailure,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { DEFAULT_UNIT_RETRY } from './retry';
import type { FailureRecord, JobInput } from './types';


// Writing the failure record must not be lost to a short database outage: retry it until it lands.
export const { recordFailure } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { maximumInterval: '1m' },
});

export type TargetOutcome =
  | { outcome: 'succeeded' | 'skipped' }
  | { outcome: 'failed'; failure: FailureRecord; cause: TemporalFailure };

/**
 * Runs one target's Unit as a local activity — executed by the worker inside the job's workflow task and
 * recorded as one marker, which costs the server far less than an activity task — with the batch's retry
 * policy. A unit that gives up comes back as a failure for the caller to record (`recordFailure`).
 */
export async function runTargetUnit(
  input: JobInput,
  options: Pick<LocalActivityOptions, 'localRetryThreshold'> = {},
): Promise<TargetOutcome> {
  const { runUnit } = proxyLocalActivities<Activities>({
    startToCloseTimeout: input.settings.timeout ?? '1m',
    retry: input.settings.retry ?? DEFAULT_UNIT_RETRY,
    ...options,
  });
  try {
    return { outcome: await runUnit(input) };
  } catch (err) {
    if (isCancellation(err) || !(err instanceof TemporalFailure)) throw err;
    return { outcome: 'failed', failure: failureRecord(input, err), cause: err };
  }
}

/**
 * What the failure record says. The unit's name and the attempt count come from the workflow's own
 * knowledge where the error carries none (a timeout has no details).
 */
function failureRecord(input: JobInput, err: TemporalFailure): FailureRecord {
  // A local activity's failure arrives bare (ApplicationFailure, TimeoutFailure); a regular one's wrapped.
  const reason = err instanceof ActivityFailure ? (err.cause ?? err) : err;
  const cause = reason instanceof ApplicationFailure ? reason : undefined;
  const details = (cause?.details?.[0] ?? {}) as { attempt?: number; unit?: string };
  return {
    batch: input.batch,
    runKey: input.runKey,
    targetKey: input.target.key,
    unit: details.unit ?? input.settings.unit ?? '',
    error: reason.message,
    errorType: cause?.type ?? reason.name,
    // A timeout carries no details; the unit gave up after every attempt its policy allows.
    attempts: details.attempt ?? (input.settings.retry ?? DEFAULT_UNIT_RETRY).maximumAttempts ?? 0,
    nonRetryable: cause?.nonRetryable ?? false,
    target: input.target,
  };
}
