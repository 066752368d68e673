import type { Duration } from '@temporalio/common';
import { CancellationScope, isCancellation, patched } from '@temporalio/workflow';
import type { ChunkInput, FailureRecord, JobInput, RunSummary } from './types';
import { DEFAULT_UNIT_RETRY } from './retry';
import { recordFailure, runTargetUnit } from './unit';

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
  const afterLanes = patched(FAILURES_AFTER_LANES);
  const counts = { succeeded: 0, failed: 0, skipped: 0 };
  const failures: FailureRecord[] = [];
  let next = 0;
  const lane = async () => {
    while (next < input.targets.length) {
      const index = next++;
      const job: JobInput = {
        batch: input.batch,
        runKey: input.runKey,
        params: input.params,
        target: input.targets[index],
        settings: input.settings,
      };
      // A backoff longer than the local retry threshold becomes a workflow timer, a command whose place
      // would again depend on resolution order: keep every backoff of the policy local.
      const result = await runTargetUnit(job, afterLanes ? { localRetryThreshold: longestBackoff(job) } : {});
      if (result.outcome === 'failed') {
        if (afterLanes) failures[index] = result.failure;
        else await recordFailure(result.failure);
      }
      counts[result.outcome]++;
    }
  };
  const record = () => Promise.all(failures.filter(Boolean).map((failure) => recordFailure(failure)));
  try {
    await Promise.all(Array.from({ length: Math.min(input.concurrency, input.targets.length) }, lane));
  } catch (err) {
    // Cancelled (`tju cancel --now`): the targets that gave up before it still get their failure records.
    if (isCancellation(err) && patched(RECORDS_FAILURES_ON_CANCEL)) await CancellationScope.nonCancellable(record);
    throw err;
  }
  await record();
  return counts;
}

/** The longest wait between two attempts the unit's retry policy allows (the plan always sets it). */
function longestBackoff(job: JobInput): Duration {
  return (job.settings.retry ?? DEFAULT_UNIT_RETRY).maximumInterval ?? DEFAULT_UNIT_RETRY.maximumInterval;
}
