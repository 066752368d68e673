import { ApplicationFailure, CancellationScope, isCancellation, patched } from '@temporalio/workflow';
import { addStepCounts, chainOf, chainOutcome, runsLocally, type Chain } from './chain';
import { runChunkLocally } from './localChunk';
import { inLanes } from './lanes';
import { DEFAULT_UNIT_RETRY } from './retry';
import { recordFailure, runStep } from './step';
import type { ChunkInput, ChunkJobInput, FailureRecord, JobInput, RunSummary, StepCounts, StepOutcome, StepSettings } from './types';

/**
 * Chunks started before this patch recorded a failure from inside its lane. Local activities resolve in
 * completion order when live but in sequence order on replay, so that regular activity took a different place
 * among the lanes' commands on replay: a nondeterminism error that stranded the chunk.
 */
export const FAILURES_AFTER_LANES = 'chunk-records-failures-after-lanes';
/** Chunks cancelled before this patch dropped the failure records of their finished targets. */
export const RECORDS_FAILURES_ON_CANCEL = 'chunk-records-failures-on-cancel';
/** Chunks started from this patch on, with every unit local, run in one local activity (workflows/localChunk.ts). */
export const ONE_LOCAL_ACTIVITY = 'chunk-one-local-activity';

/**
 * The Job (per-chunk): one child workflow for a chunk of targets, for runs where a workflow per target costs
 * too much. Each target's units are still their own transactions, retried and recorded alone. When every unit
 * is local, the chunk runs in one local activity (workflows/localChunk.ts). Otherwise, and in chunks started
 * before that, each unit is its own activity, and the chain runs in waves: step 1 for every target, `concurrency` at a time, then step 2 for the targets whose
 * chain goes on, and so on.
 *
 * Determinism: within a wave every resolution schedules the same step of the next target in the list, so the
 * n-th command is always the n-th target's whichever activity resolves first (a chain per lane would not be).
 * Failure records are written after the waves, in target order.
 */
export async function chunkJobWorkflow(job: ChunkJobInput): Promise<Omit<RunSummary, 'total'>> {
  const chain = chainOf(job.settings);
  if (runsLocally(chain) && patched(ONE_LOCAL_ACTIVITY)) return runChunkLocally(job, chain);
  // The trigger stages only chunks whose units were all local; a deploy may have made one regular since.
  if (!Array.isArray(job.targets))
    throw ApplicationFailure.nonRetryable(`a staged chunk needs every unit of ${job.batch} local; its targets are settled by its trigger`);
  const input = job as ChunkInput;
  // Chunks of a single unit, planned before every job was a chain, replay as they were recorded.
  const afterLanes = chain.legacySingle ? patched(FAILURES_AFTER_LANES) : true;
  const outcomes: Array<Record<string, StepOutcome>> = input.targets.map(() => ({}));
  const failures: FailureRecord[] = [];
  const record = () => Promise.all(failures.filter(Boolean).map((failure) => recordFailure(failure)));
  try {
    for (const [index, step] of chain.steps.entries()) {
      const going = input.targets.map((_, target) => target).filter((target) => !outcomes[target][failedStep(outcomes[target])]);
      await inLanes(going, input.concurrency, async (target) => {
        const result = await runStep(targetJob(input, target), step, index, localOptions(step, afterLanes));
        outcomes[target][step.unit] = result.outcome;
        if (result.outcome !== 'failed') return;
        if (afterLanes) failures[target] = result.failure;
        else await recordFailure(result.failure);
      });
    }
  } catch (err) {
    // Cancelled (`tju cancel --now`): the targets that gave up before it still get their failure records.
    if (isCancellation(err) && (!chain.legacySingle || patched(RECORDS_FAILURES_ON_CANCEL))) await CancellationScope.nonCancellable(record);
    throw err;
  }
  await record();
  return countsOf(chain, outcomes);
}

/** The step a target's chain stopped at, if it did. */
const failedStep = (outcomes: Record<string, StepOutcome>): string =>
  Object.keys(outcomes).find((unit) => outcomes[unit] === 'failed') ?? '';

/**
 * A backoff longer than the local retry threshold becomes a workflow timer, a command whose place would again
 * depend on resolution order: keep every backoff of the policy local. (Chunks recorded before the lanes'
 * patch used the SDK's default.)
 */
function localOptions(step: StepSettings, afterLanes: boolean) {
  if (step.regular || !afterLanes) return {};
  return { localRetryThreshold: step.retry?.maximumInterval ?? DEFAULT_UNIT_RETRY.maximumInterval };
}

/** The chunk's outcome per target, and per step for a chain. */
function countsOf(chain: Chain, outcomes: Array<Record<string, StepOutcome>>): Omit<RunSummary, 'total'> {
  const counts = { succeeded: 0, failed: 0, skipped: 0 };
  const steps: StepCounts = {};
  for (const chained of outcomes) {
    counts[Object.values(chained).includes('failed') ? 'failed' : chainOutcome(chained)]++;
    addStepCounts(steps, chained);
  }
  return chain.countsSteps ? { ...counts, steps } : counts;
}

/** The job input of the chunk's `index`-th target, as a per-target job would carry it. */
function targetJob(input: ChunkInput, index: number): JobInput {
  return { batch: input.batch, runKey: input.runKey, params: input.params, target: input.targets[index], settings: input.settings };
}
