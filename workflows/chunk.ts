import { ApplicationFailure, CancellationScope, isCancellation } from '@temporalio/workflow';
import { addStepCounts, chainOf, chainOutcome, runsLocally, type Chain } from '../src/contracts/chain';
import { runChunkLocally } from './localChunk';
import { inLanes } from './lanes';
import { refuseEarlierEngine } from './engine';
import { DEFAULT_UNIT_RETRY } from '../src/contracts/retry';
import { recordFailure, runStep } from './step';
import type {
  ChunkInput,
  ChunkJobInput,
  FailureRecord,
  JobInput,
  RunSummary,
  StepCounts,
  StepOutcome,
  StepSettings,
} from '../src/contracts/types';

/**
 * The Job (per-chunk): one child workflow for a chunk of targets, for runs where a workflow per target costs
 * too much. Each target's units are still their own transactions, retried and recorded alone. When every unit
 * is local, the chunk runs in one local activity over its staged targets (workflows/localChunk.ts). Otherwise
 * each unit is its own activity, and the chain runs in waves: step 1 for every target, `concurrency` at a time,
 * then step 2 for the targets whose chain goes on, and so on.
 *
 * Determinism: within a wave every resolution schedules the same step of the next target in the list, so the
 * n-th command is always the n-th target's whichever activity resolves first (a chain per lane would not be).
 * Failure records are written after the waves, in target order.
 */
export async function chunkJobWorkflow(job: ChunkJobInput): Promise<Omit<RunSummary, 'total'>> {
  refuseEarlierEngine(job, 'chunk job');
  const chain = chainOf(job.settings);
  if (runsLocally(chain)) return runChunkLocally(job, chain);
  // The trigger stages only chunks whose units were all local; a deploy may have made one regular since.
  if (!Array.isArray(job.targets))
    throw ApplicationFailure.nonRetryable(`a staged chunk needs every unit of ${job.batch} local; its targets are settled by its trigger`);
  const input = job as ChunkInput;
  const outcomes: Array<Record<string, StepOutcome>> = input.targets.map(() => ({}));
  const failures: FailureRecord[] = [];
  const record = () => Promise.all(failures.filter(Boolean).map((failure) => recordFailure(failure)));
  try {
    for (const [index, step] of chain.steps.entries()) {
      const going = input.targets.map((_, target) => target).filter((target) => !outcomes[target][failedStep(outcomes[target])]);
      await inLanes(going, input.concurrency, async (target) => {
        const result = await runStep(targetJob(input, target), step, index, localOptions(step));
        outcomes[target][step.unit] = result.outcome;
        if (result.outcome === 'failed') failures[target] = result.failure;
      });
    }
  } catch (err) {
    // Cancelled (`tju cancel --now`): the targets that gave up before it still get their failure records.
    if (isCancellation(err)) await CancellationScope.nonCancellable(record);
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
 * depend on resolution order: keep every backoff of a local step's policy local.
 */
const localOptions = (step: StepSettings) =>
  step.regular ? {} : { localRetryThreshold: step.retry.maximumInterval ?? DEFAULT_UNIT_RETRY.maximumInterval };

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
  const { engine, batch, runKey, params, settings } = input;
  return { engine, batch, runKey, params, target: input.targets[index], settings };
}
