import {
  ActivityFailure,
  ApplicationFailure,
  isCancellation,
  log,
  proxyActivities,
  proxyLocalActivities,
  sleep,
  TemporalFailure,
  workflowInfo,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { BREAKER_OPEN, breakerOpenDetails, UNKNOWN_BATCH, unitFailureDetails } from '../src/contracts/details';
import { unitTaskQueue } from '../src/contracts/ids';
import type { FailureRecord, JobInput, StepOutcome, StepSettings } from '../src/contracts/types';

// Writing the failure record must not be lost to a short database outage: retry it until it lands.
export const { recordFailure } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { maximumInterval: '1m' },
});

/** What one step did for one target: a unit that gave up comes back as the failure its job records. */
export type StepResult =
  { outcome: Exclude<StepOutcome, 'failed'> } | { outcome: 'failed'; failure: FailureRecord; cause: TemporalFailure };

/**
 * The one step runner: runs `step` (the `index`-th of the chain) for one target as the unit declares — a local
 * activity, executed inside the job's workflow task and recorded as one marker, or a regular activity (on
 * the unit's own task queue when it has one) — with the step's retry policy and timeout.
 */
export async function runStep(
  job: JobInput,
  step: StepSettings,
  index: number,
  local: Pick<LocalActivityOptions, 'localRetryThreshold'> = {},
): Promise<StepResult> {
  const { timeout: startToCloseTimeout, retry } = step;
  const { runUnit } = step.regular
    ? proxyActivities<Activities>({
        startToCloseTimeout,
        retry,
        ...(step.heartbeatTimeout ? { heartbeatTimeout: step.heartbeatTimeout } : {}),
        ...(step.taskQueue || step.ownQueue ? { taskQueue: step.taskQueue ?? unitTaskQueue(workflowInfo().taskQueue, step.unit) } : {}),
      })
    : proxyLocalActivities<Activities>({ startToCloseTimeout, retry, ...local });
  // The activity needs only which step; the failure record, the step's own settings.
  const settings = { unit: step.unit, retry: step.retry, timeout: step.timeout };
  for (;;) {
    try {
      return { outcome: await runUnit({ ...job, settings, step: index }) };
    } catch (err) {
      if (isCancellation(err) || !(err instanceof TemporalFailure)) throw err;
      // The unit's circuit breaker is open: wait as it says and ask again; the target spent no attempt.
      const breakerWait = breakerOpenFor(err);
      if (breakerWait !== undefined) {
        await sleep(breakerWait);
        continue;
      }
      if (!ranOnWorkerWithoutBatch(err)) return { outcome: 'failed', failure: failureRecord(job, step, err), cause: err };
      // Not the target's failure: a worker that does not define the batch took the unit (another app on the
      // queue, or an older release mid-deploy). A local activity ran in this very workflow task, so fail the
      // task: Temporal hands it to a worker again. A regular one failed in history: ask again in a while.
      if (!step.regular)
        throw new Error(`this worker does not define batch ${job.batch}; the task is left for a worker that does`, { cause: err });
      log.warn('a worker that does not define the batch took its unit; asking again', { batch: job.batch, unit: step.unit });
      await sleep('10s');
    }
  }
}

/** Whether the failure says a worker that does not define the batch took the unit: not the target's failure. */
export const ranOnWorkerWithoutBatch = (err: TemporalFailure): boolean => {
  const reason = err instanceof ActivityFailure ? err.cause : err;
  return reason instanceof ApplicationFailure && reason.type === UNKNOWN_BATCH;
};

/** How long to wait when the failure is a refusal by the unit's open circuit breaker; undefined otherwise. */
const breakerOpenFor = (err: TemporalFailure): number | undefined => {
  const reason = err instanceof ActivityFailure ? err.cause : err;
  return reason instanceof ApplicationFailure && reason.type === BREAKER_OPEN ? breakerOpenDetails.decode(reason.details) : undefined;
};

/**
 * What the failure record says. The unit's name and the attempt count come from the step where the error
 * carries none (a timeout has no details: the unit gave up after every attempt its policy allows).
 */
function failureRecord(job: JobInput, step: StepSettings, err: TemporalFailure): FailureRecord {
  // A local activity's failure arrives bare (ApplicationFailure, TimeoutFailure); a regular one's wrapped.
  const reason = err instanceof ActivityFailure ? (err.cause ?? err) : err;
  const cause = reason instanceof ApplicationFailure ? reason : undefined;
  const details = unitFailureDetails.decode(cause?.details);
  return {
    batch: job.batch,
    runKey: job.runKey,
    targetKey: job.target.key,
    unit: details.unit ?? step.unit,
    error: reason.message,
    errorType: cause?.type ?? reason.name,
    attempts: details.attempt ?? step.retry.maximumAttempts ?? 0,
    nonRetryable: cause?.nonRetryable ?? false,
    target: job.target,
  };
}
