import { msToNumber } from '@temporalio/common/lib/time';
import { proxyLocalActivities, TemporalFailure } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { addStepCounts, type Chain } from './chain';
import { inLanes } from './lanes';
import { DEFAULT_UNIT_RETRY } from './retry';
import { ranOnWorkerWithoutBatch } from './step';
import type { ChunkInput, RunSummary, Target } from './types';

/** The most targets one local activity of a per-chunk job runs, one after another. */
export const GROUP_SIZE = 10;

/**
 * A per-chunk job whose units all run locally takes its targets in groups: one local activity per group runs
 * each target's chain in turn, with its own transactions, ledger rows, retry policy and failure record — a bulk
 * chunk of one lane (activities/bulk.ts). One marker and one workflow activation per group instead of per
 * target and step, which were most of a per-chunk target's cost to the worker. `concurrency` groups run at
 * once, and the n-th command is always the n-th group's (workflows/lanes.ts).
 */
export async function runInGroups(input: ChunkInput, chain: Chain): Promise<Omit<RunSummary, 'total'>> {
  const size = Math.max(1, Math.min(GROUP_SIZE, Math.ceil(input.targets.length / input.concurrency)));
  const groups: Target[][] = [];
  for (let i = 0; i < input.targets.length; i += size) groups.push(input.targets.slice(i, i + size));
  const { runChunk } = proxyLocalActivities<Activities>({
    startToCloseTimeout: groupTimeout(chain, size),
    // For the group's own errors (a lost connection while it writes a failure record, a unit that outlived
    // every timeout): each target's attempts and backoffs happen inside it. After the last, the chunk fails
    // and its trigger settles its targets by the ledger. Backoffs stay local: a timer would be a command
    // whose place depends on which group resolves first.
    retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10 },
    localRetryThreshold: '30s',
  });
  const counts: Omit<RunSummary, 'total'> = { succeeded: 0, failed: 0, skipped: 0 };
  await inLanes(groups, input.concurrency, async (targets) => {
    let done: Omit<RunSummary, 'total'>;
    try {
      done = await runChunk({ ...input, targets, concurrency: 1 });
    } catch (err) {
      // A worker that does not define the batch ran it: fail the task, so Temporal hands it to another worker.
      if (err instanceof TemporalFailure && ranOnWorkerWithoutBatch(err))
        throw new Error(`this worker does not define batch ${input.batch}; the task is left for a worker that does`, { cause: err });
      throw err;
    }
    counts.succeeded += done.succeeded;
    counts.failed += done.failed;
    counts.skipped += done.skipped;
    if (done.steps) addStepCounts((counts.steps ??= {}), done.steps);
  });
  return counts;
}

/**
 * Time for a group's every target to use every attempt its steps allow, each to its timeout, with the longest
 * backoff between: each unit is stopped at its own timeout inside, so this only bounds a unit that ignores it.
 */
function groupTimeout(chain: Chain, size: number): number {
  let perTarget = 0;
  for (const step of chain.steps) {
    const attempts = step.retry?.maximumAttempts ?? DEFAULT_UNIT_RETRY.maximumAttempts;
    if (!attempts) return DAY;
    const backoff = msToNumber(step.retry?.maximumInterval ?? DEFAULT_UNIT_RETRY.maximumInterval);
    perTarget += attempts * msToNumber(step.timeout ?? '1m') + (attempts - 1) * backoff;
  }
  return Math.min(DAY, size * perTarget + 60_000);
}

const DAY = 24 * 60 * 60 * 1000;
