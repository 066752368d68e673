import { ApplicationFailure } from '@temporalio/workflow';
import { refuseEarlierEngine } from './engine';
import { chainOf, chainOutcome } from '../src/contracts/chain';
import { TARGET_FAILED, targetFailedDetails } from '../src/contracts/details';
import { recordFailure, runStep, type StepResult } from './step';
import type { JobInput, JobResult, StepOutcome } from '../src/contracts/types';

/**
 * The Job (per-target): one child workflow per target, running its chain — one step after another, each its
 * own activity and transaction. When a step gives up, the job records the failure (naming the step) and fails
 * too, so Temporal lists it as Failed and `temporal workflow reset` can rerun it.
 */
export async function jobWorkflow(input: JobInput): Promise<JobResult> {
  refuseEarlierEngine(input, 'job');
  const chain = chainOf(input.settings);
  const outcomes: Record<string, StepOutcome> = {};
  for (const [index, step] of chain.steps.entries()) {
    const result = await runStep(input, step, index);
    outcomes[step.unit] = result.outcome;
    if (result.outcome === 'failed') return fail(result, chain.countsSteps ? outcomes : undefined);
  }
  return { outcome: chainOutcome(outcomes), ...(chain.countsSteps ? { steps: outcomes } : {}) };
}

async function fail(result: Extract<StepResult, { outcome: 'failed' }>, steps?: Record<string, StepOutcome>): Promise<never> {
  const { failure } = result;
  await recordFailure(failure);
  throw ApplicationFailure.create({
    type: TARGET_FAILED,
    message: `${failure.errorType}: ${failure.error}`,
    nonRetryable: true,
    // The trigger counts the chain's steps from here.
    details: targetFailedDetails.encode({ failure, steps }),
    cause: result.cause,
  });
}
