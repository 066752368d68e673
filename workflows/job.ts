import { ApplicationFailure } from '@temporalio/workflow';
import type { JobInput, JobResult } from './types';
import { recordFailure, runTargetUnit } from './unit';

/**
 * The Job (per-target): one child workflow per target. Runs the target's Unit; when the unit gives up,
 * records the failure and fails too, so Temporal lists it as Failed and `temporal workflow reset` can rerun it.
 */
export async function jobWorkflow(input: JobInput): Promise<JobResult> {
  const result = await runTargetUnit(input);
  if (result.outcome !== 'failed') return { outcome: result.outcome };
  const { failure } = result;
  await recordFailure(failure);
  throw ApplicationFailure.create({
    type: 'TargetFailed',
    message: `${failure.errorType}: ${failure.error}`,
    nonRetryable: true,
    details: [failure],
    cause: result.cause,
  });
}
