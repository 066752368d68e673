import {
  ChildWorkflowFailure,
  condition,
  continueAsNew,
  executeChild,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import { chunkWorkflowId, jobWorkflowId, runSearchAttributes, searchAttributes } from './ids';
import { chunkJobWorkflow } from './chunk';
import { jobWorkflow } from './job';
import { progressQuery } from './queries';
import type { RunSummary, Target, TriggerInput, TriggerState } from './types';

/** Temporal refuses more than 2,000 pending children per workflow; stay well below. */
export const MAX_WINDOW = 1000;
export const DEFAULT_CHUNK_SIZE = 100;
export const DEFAULT_CHUNK_CONCURRENCY = 10;

const { fetchTargets, partitionKeys, runFailed } = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: { maximumInterval: '1m' },
});

/**
 * The Trigger: pages through the targets not yet processed for one run (keyset, never OFFSET), starts one
 * job per target with at most `window` in flight, and continues as new before its history grows large.
 * A failed target is counted, never fatal to the run.
 */
export async function triggerWorkflow(input: TriggerInput, state?: TriggerState): Promise<RunSummary> {
  const counts: RunSummary = state ? { ...state.counts } : { total: 0, succeeded: 0, failed: 0, skipped: 0 };
  const continuedRuns = state?.continuedRuns ?? 0;
  const window = Math.max(1, Math.min(input.window, MAX_WINDOW));
  let cursor = state?.cursor ?? input.after ?? null;
  let inFlight = 0;
  let dispatchedHere = 0;
  let done = false;
  const runningPartitions = new Set<string>();
  setHandler(progressQuery, () => ({
    ...counts,
    inFlight,
    cursor,
    continuedRuns,
    done,
    ...(runningPartitions.size ? { runningPartitions: [...runningPartitions] } : {}),
  }));

  if ((input.partitions ?? 1) > 1 && !state) {
    // Key ranges, each a trigger of its own; this run adds up their summaries as they finish.
    const keys = await partitionKeys({ ...input, count: input.partitions! });
    const bounds = [input.after ?? null, ...keys, input.upTo ?? null];
    await Promise.all(
      bounds.slice(0, -1).map(async (after, i) => {
        const workflowId = `${workflowInfo().workflowId}/p${i}`;
        runningPartitions.add(workflowId);
        const part = await executeChild(triggerWorkflow, {
          workflowId,
          args: [{ ...input, partitions: 1, partition: i, after, upTo: bounds[i + 1] }],
          typedSearchAttributes: runSearchAttributes(input.batch, input.runKey),
        });
        runningPartitions.delete(workflowId);
        for (const key of ['total', 'succeeded', 'failed', 'skipped'] as const) counts[key] += part[key];
      }),
    );
    return finish();
  }

  const runAttributes = runSearchAttributes(input.batch, input.runKey);
  const perChunk = input.granularity === 'per-chunk';
  const chunkSize = Math.max(1, input.chunkSize ?? DEFAULT_CHUNK_SIZE);

  /** Runs one job over `targets` (one target per-target, a chunk per-chunk) and counts its outcomes. */
  const dispatch = async (targets: Target[]): Promise<void> => {
    const first = targets[0].key;
    const job = { batch: input.batch, runKey: input.runKey, params: input.params, settings: input.job };
    try {
      if (perChunk) {
        const result = await executeChild(chunkJobWorkflow, {
          workflowId: chunkWorkflowId(input.batch, input.runKey, first, targets[targets.length - 1].key),
          args: [{ ...job, targets, concurrency: input.chunkConcurrency ?? DEFAULT_CHUNK_CONCURRENCY }],
          typedSearchAttributes: runAttributes,
        });
        counts.succeeded += result.succeeded;
        counts.failed += result.failed;
        counts.skipped += result.skipped;
      } else {
        const result = await executeChild(jobWorkflow, {
          workflowId: jobWorkflowId(input.batch, input.runKey, first),
          args: [{ ...job, target: targets[0] }],
          typedSearchAttributes: [...runAttributes, { key: searchAttributes.targetKey, value: first }],
        });
        counts[result.outcome]++;
      }
    } catch (err) {
      // Another trigger of the same run is processing this job right now: it is not ours to count.
      if (err instanceof WorkflowExecutionAlreadyStartedError) counts.skipped += targets.length;
      else if (err instanceof ChildWorkflowFailure) counts.failed += targets.length;
      else throw err;
    } finally {
      inFlight--;
    }
  };

  const historyIsLong = () => {
    const info = workflowInfo();
    return info.historyLength >= input.maxHistoryEvents || info.continueAsNewSuggested;
  };

  for (;;) {
    const page = await fetchTargets({
      source: input.source,
      batch: input.batch,
      runKey: input.runKey,
      params: input.params,
      after: cursor,
      upTo: input.upTo,
      limit: input.pageSize,
    });
    for (let i = 0; i < page.length; i += perChunk ? chunkSize : 1) {
      const targets = page.slice(i, perChunk ? i + chunkSize : i + 1);
      await condition(() => inFlight < window);
      // Dispatch at least one job per run, so a tiny history limit still makes progress.
      if (dispatchedHere > 0 && historyIsLong()) {
        // Children belong to this run: let them finish, then carry the counters and cursor over.
        await condition(() => inFlight === 0);
        return continueAsNew<typeof triggerWorkflow>(input, { counts, cursor, continuedRuns: continuedRuns + 1 });
      }
      inFlight++;
      dispatchedHere++;
      counts.total += targets.length;
      cursor = targets[targets.length - 1].key;
      void dispatch(targets);
    }
    if (page.length < input.pageSize) break;
  }
  await condition(() => inFlight === 0);
  return finish();

  async function finish(): Promise<RunSummary> {
    if (counts.failed > 0 && input.partition === undefined) {
      await runFailed({ batch: input.batch, runKey: input.runKey, workflowId: workflowInfo().workflowId, summary: counts });
    }
    done = true;
    return counts;
  }
}
