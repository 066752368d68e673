import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { JobInput, JobResult } from './types';

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

/** The Job: runs one target's Unit as an activity with the batch's retry policy; records it if it gives up. */
export async function jobWorkflow(input: JobInput): Promise<JobResult> {
  const { runUnit } = proxyActivities<Activities>({
    startToCloseTimeout: input.settings.timeout ?? '1m',
    retry: input.settings.retry ?? DEFAULT_UNIT_RETRY,
  });
  try {
    return { outcome: await runUnit(input) };
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    const cause = err.cause instanceof ApplicationFailure ? err.cause : undefined;
    const details = (cause?.details?.[0] ?? {}) as { attempt?: number; unit?: string };
    const failure = {
      batch: input.batch,
      runKey: input.runKey,
      targetKey: input.target.key,
      unit: details.unit ?? '',
      error: err.cause?.message ?? err.message,
      errorType: cause?.type ?? err.cause?.name ?? 'Error',
      attempts: details.attempt ?? 0,
      nonRetryable: cause?.nonRetryable ?? false,
    };
    await recordFailure(failure);
    throw ApplicationFailure.create({
      type: 'TargetFailed',
      message: `${failure.errorType}: ${failure.error}`,
      nonRetryable: true,
      details: [failure],
      cause: err,
    });
  }
}
