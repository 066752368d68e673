import { ApplicationFailure } from '@temporalio/workflow';
import type { JobInput, JobResult, StepOutcome } from './types';
import { chainOutcome } from './steps';
import { recordFailure, runStep, runTargetUnit, type TargetOutcome } from './unit';

/**
 * The Job (per-target): one child workflow per target. Runs the target's Unit — or its chain of units, one
 * step after another; when a unit gives up, records the failure (naming the step) and fails too, so Temporal
 * lists it as Failed and `temporal workflow reset` can rerun it.
 */
export async function jobWorkflow(input: JobInput): Promise<JobResult> {
  if (input.settings.steps) return runChain(input);
  const result = await runTargetUnit(input);
  if (result.outcome !== 'failed') return { outcome: result.outcome };
  return fail(result);
}

/** The steps in order, each its own activity and transaction; the first to give up ends the chain. */
async function runChain(input: JobInput): Promise<JobResult> {
  const steps: Record<string, StepOutcome> = {};
  for (const [index, step] of input.settings.steps!.entries()) {
    const result = await runStep(input, index);
    steps[step.unit] = result.outcome;
    if (result.outcome === 'failed') return fail(result, steps);
  }
  return { outcome: chainOutcome(steps), steps };
}

async function fail(result: Extract<TargetOutcome, { outcome: 'failed' }>, steps?: Record<string, StepOutcome>): Promise<never> {
  const { failure } = result;
  await recordFailure(failure);
  throw ApplicationFailure.create({
    type: 'TargetFailed',
    message: `${failure.errorType}: ${failure.error}`,
    nonRetryable: true,
    // The trigger counts the chain's steps from here.
    details: steps ? [failure, steps] : [failure],
    cause: result.cause,
  });
}
