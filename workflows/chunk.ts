import type { Duration } from '@temporalio/common';
import { CancellationScope, isCancellation, patched } from '@temporalio/workflow';
import type { ChunkInput, FailureRecord, JobInput, RunSummary, StepCounts, StepOutcome } from './types';
import { addStepCounts, chainOutcome } from './steps';
import { DEFAULT_UNIT_RETRY } from './retry';
import { recordFailure, runStep, runTargetUnit } from './unit';

/**
 * Chunks started before this patch recorded a failure from inside its lane. Local activities resolve in
 * completion order when live but in sequence order on replay, so that regular activity took a different place
 * among the lanes' commands on replay: a nondeterminism error that stranded the chunk.
 */
export const FAILURES_AFTER_LANES = 'chunk-records-failures-after-lanes';
/** Chunks cancelled before this patch dropped the failure records of their finished targets. */
export const RECORDS_FAILURES_ON_CANCEL = 'chunk-records-failures-on-cancel';

/**
 * The Job (per-chunk): one child workflow for a chunk of targets, for runs where a workflow per target
 * costs too much. Each target's Unit is still its own activity and transaction, retried and recorded
 * alone; `concurrency` of them run at once.
 *
 * Determinism: the lanes' commands must not depend on which local activity resolves first. Every
 * resolution does the same thing — schedule the unit of the next target in the list — so the n-th unit
 * command is always the n-th target's. Everything else (failure records) happens after the lanes, in target order.
 */
export async function chunkJobWorkflow(input: ChunkInput): Promise<Omit<RunSummary, 'total'>> {
  if (input.settings.steps) return chunkChain(input);
  const afterLanes = patched(FAILURES_AFTER_LANES);
  const counts = { succeeded: 0, failed: 0, skipped: 0 };
  const failures: FailureRecord[] = [];
  const record = () => Promise.all(failures.filter(Boolean).map((failure) => recordFailure(failure)));
  try {
    await inLanes(input.targets.keys(), input.concurrency, async (index) => {
      const job = targetJob(input, index);
      // A backoff longer than the local retry threshold becomes a workflow timer, a command whose place
      // would again depend on resolution order: keep every backoff of the policy local.
      const result = await runTargetUnit(job, afterLanes ? { localRetryThreshold: longestBackoff(job) } : {});
      if (result.outcome === 'failed') {
        if (afterLanes) failures[index] = result.failure;
        else await recordFailure(result.failure);
      }
      counts[result.outcome]++;
    });
  } catch (err) {
    // Cancelled (`tju cancel --now`): the targets that gave up before it still get their failure records.
    if (isCancellation(err) && patched(RECORDS_FAILURES_ON_CANCEL)) await CancellationScope.nonCancellable(record);
    throw err;
  }
  await record();
  return counts;
}

/**
 * A chain over a chunk, in waves: step 1 for every target (in lanes, as above), then step 2 for the targets
 * whose chain goes on, and so on. Within a wave every resolution schedules the same step of the next target,
 * so the commands do not depend on which activity resolves first; a per-target chain in each lane would.
 */
async function chunkChain(input: ChunkInput): Promise<Omit<RunSummary, 'total'>> {
  const outcomes: Array<Record<string, StepOutcome>> = input.targets.map(() => ({}));
  const failures: FailureRecord[] = [];
  const record = () => Promise.all(failures.filter(Boolean).map((failure) => recordFailure(failure)));
  try {
    for (const [stepIndex, step] of input.settings.steps!.entries()) {
      const going = input.targets.map((_, index) => index).filter((index) => !failures[index]);
      const local = step.regular ? {} : { localRetryThreshold: step.retry?.maximumInterval ?? DEFAULT_UNIT_RETRY.maximumInterval };
      await inLanes(going, input.concurrency, async (index) => {
        const result = await runStep(targetJob(input, index), stepIndex, local);
        outcomes[index][step.unit] = result.outcome;
        if (result.outcome === 'failed') failures[index] = result.failure;
      });
    }
  } catch (err) {
    // Cancelled: the targets that gave up before it still get their failure records.
    if (isCancellation(err)) await CancellationScope.nonCancellable(record);
    throw err;
  }
  await record();
  const counts = { succeeded: 0, failed: 0, skipped: 0 };
  const steps: StepCounts = {};
  for (const [index, chain] of outcomes.entries()) {
    counts[failures[index] ? 'failed' : chainOutcome(chain)]++;
    addStepCounts(steps, chain);
  }
  return { ...counts, steps };
}

/**
 * Runs `work` for each item in order, `concurrency` at a time: whenever one resolves, its lane starts the
 * next item. So the n-th command is always the n-th item's, whichever resolves first.
 */
async function inLanes<T>(items: Iterable<T>, concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  const list = [...items];
  let next = 0;
  const lane = async () => {
    while (next < list.length) await work(list[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, lane));
}

/** The job input of the chunk's `index`-th target, as a per-target job would carry it. */
function targetJob(input: ChunkInput, index: number): JobInput {
  return { batch: input.batch, runKey: input.runKey, params: input.params, target: input.targets[index], settings: input.settings };
}

/** The longest wait between two attempts the unit's retry policy allows (the plan always sets it). */
function longestBackoff(job: JobInput): Duration {
  return (job.settings.retry ?? DEFAULT_UNIT_RETRY).maximumInterval ?? DEFAULT_UNIT_RETRY.maximumInterval;
}
