import {
  ActivityFailure,
  ApplicationFailure,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  TemporalFailure,
  workflowInfo,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { unitTaskQueue } from './ids';
import { DEFAULT_UNIT_RETRY } from './retry';
import type { FailureRecord, JobInput, StepOutcome } from './types';

// Writing the failure record must not be lost to a short database outage: retry it until it lands.
export const { recordFailure } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { maximumInterval: '1m' },
});

export type TargetOutcome = { outcome: 'succeeded' | 'skipped' } | { outcome: 'failed'; failure: FailureRecord; cause: TemporalFailure };

/** A chain step's outcome: a step can also not apply to the target (its `when`). */
export type StepResult = TargetOutcome | { outcome: Extract<StepOutcome, 'not-applicable'> };

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
    return { outcome: (await runUnit(input)) as 'succeeded' | 'skipped' };
  } catch (err) {
    if (isCancellation(err) || !(err instanceof TemporalFailure)) throw err;
    return { outcome: 'failed', failure: failureRecord(input, err), cause: err };
  }
}

/**
 * Runs step `index` of the batch's chain for one target: a local activity, or a regular one (on the unit's own
 * task queue when it has one) as the unit declares, with the step's own retry policy and timeout.
 */
export async function runStep(
  input: JobInput,
  index: number,
  options: Pick<LocalActivityOptions, 'localRetryThreshold'> = {},
): Promise<StepResult> {
  const step = input.settings.steps![index];
  // The activity needs only which step; the failure record, the step's own settings.
  const settings = { retry: step.retry, timeout: step.timeout, unit: step.unit };
  const retry = step.retry ?? DEFAULT_UNIT_RETRY;
  const startToCloseTimeout = step.timeout ?? '1m';
  const { runUnit } = step.regular
    ? proxyActivities<Activities>({
        startToCloseTimeout,
        retry,
        ...(step.heartbeatTimeout ? { heartbeatTimeout: step.heartbeatTimeout } : {}),
        ...(step.taskQueue || step.ownQueue ? { taskQueue: step.taskQueue ?? unitTaskQueue(workflowInfo().taskQueue, step.unit) } : {}),
      })
    : proxyLocalActivities<Activities>({ startToCloseTimeout, retry, ...options });
  try {
    return { outcome: await runUnit({ ...input, settings, step: index }) };
  } catch (err) {
    if (isCancellation(err) || !(err instanceof TemporalFailure)) throw err;
    return { outcome: 'failed', failure: failureRecord({ ...input, settings }, err), cause: err };
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
