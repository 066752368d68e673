import {
  ActivityFailure,
  ApplicationFailure,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  TemporalFailure,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { FailureRecord, JobInput } from './types';

export const DEFAULT_UNIT_RETRY = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '1m',
  maximumAttempts: 3,
} as const;

// Writing the failure record must not be lost to a short database outage: retry it until it lands.
const { recordFailure } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { maximumInterval: '1m' },
});

export type TargetOutcome =
  | { outcome: 'succeeded' | 'skipped' }
  | { outcome: 'failed'; failure: FailureRecord; cause: TemporalFailure };

/**
 * Runs one target's Unit as a local activity — executed by the worker inside the job's workflow task and
 * recorded as one marker, which costs the server far less than an activity task — with the batch's retry
 * policy. When the retries give up, writes the target's failure record.
 */
export async function runTargetUnit(input: JobInput): Promise<TargetOutcome> {
  const { runUnit } = proxyLocalActivities<Activities>({
    startToCloseTimeout: input.settings.timeout ?? '1m',
    retry: input.settings.retry ?? DEFAULT_UNIT_RETRY,
  });
  try {
    return { outcome: await runUnit(input) };
  } catch (err) {
    if (isCancellation(err) || !(err instanceof TemporalFailure)) throw err;
    // A local activity's failure arrives bare (ApplicationFailure, TimeoutFailure); a regular one's wrapped.
    const reason = err instanceof ActivityFailure ? (err.cause ?? err) : err;
    const cause = reason instanceof ApplicationFailure ? reason : undefined;
    const details = (cause?.details?.[0] ?? {}) as { attempt?: number; unit?: string };
    const failure: FailureRecord = {
      batch: input.batch,
      runKey: input.runKey,
      targetKey: input.target.key,
      unit: details.unit ?? '',
      error: reason.message,
      errorType: cause?.type ?? reason.name,
      attempts: details.attempt ?? 0,
      nonRetryable: cause?.nonRetryable ?? false,
      target: input.target,
    };
    await recordFailure(failure);
    return { outcome: 'failed', failure, cause: err };
  }
}
