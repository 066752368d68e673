import { msToNumber } from '@temporalio/common/lib/time';
import { proxyLocalActivities, TemporalFailure } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { Chain } from '../src/contracts/chain';
import { DEFAULT_UNIT_RETRY } from '../src/contracts/retry';
import { ranOnWorkerWithoutBatch } from './step';
import { countOf } from '../src/contracts/slices';
import type { ChunkJobInput, RunSummary } from '../src/contracts/types';

/**
 * A per-chunk job whose units all run locally runs its whole chunk in one local activity: the bulk loop
 * (activities/bulk.ts) with `concurrency` lanes, so every target keeps its own transactions, ledger rows, retry
 * policy, failure record and count. One marker and a few workflow activations per chunk instead of one per
 * target and step, which were most of a per-chunk target's cost to the worker; and one command, so nothing
 * depends on the order in which units finish. A staged chunk's targets are read by the activity itself.
 */
export async function runChunkLocally(input: ChunkJobInput, chain: Chain): Promise<Omit<RunSummary, 'total'>> {
  const { runChunk } = proxyLocalActivities<Activities>({
    startToCloseTimeout: chunkTimeout(chain, Math.ceil(countOf(input.targets) / input.concurrency) + 1),
    // For the activity's own errors (a lost connection while it writes a failure record, a unit that outlived
    // every timeout): each target's attempts and backoffs happen inside it. After the last, the chunk fails
    // and its trigger settles its targets by the ledger. Backoffs stay local, in the workflow task.
    retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10 },
    localRetryThreshold: '30s',
  });
  try {
    return await runChunk(input);
  } catch (err) {
    // A worker that does not define the batch ran it: fail the task, so Temporal hands it to another worker.
    if (err instanceof TemporalFailure && ranOnWorkerWithoutBatch(err))
      throw new Error(`this worker does not define batch ${input.batch}; the task is left for a worker that does`, { cause: err });
    throw err;
  }
}

/**
 * Time for one lane's `targets` to use every attempt their steps allow, each to its timeout, with the longest
 * backoff between: each unit is stopped at its own timeout inside, so this only bounds a unit that ignores it.
 */
function chunkTimeout(chain: Chain, targets: number): number {
  let perTarget = 0;
  for (const step of chain.steps) {
    const attempts = step.retry.maximumAttempts ?? DEFAULT_UNIT_RETRY.maximumAttempts;
    if (!attempts) return DAY;
    const backoff = msToNumber(step.retry.maximumInterval ?? DEFAULT_UNIT_RETRY.maximumInterval);
    perTarget += attempts * msToNumber(step.timeout) + (attempts - 1) * backoff;
  }
  return Math.min(DAY, targets * perTarget + 60_000);
}

const DAY = 24 * 60 * 60 * 1000;
