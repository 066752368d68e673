import {
  ChildWorkflowFailure,
  condition,
  continueAsNew,
  defineQuery,
  executeChild,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import { jobWorkflowId, searchAttributes } from './ids';
import { jobWorkflow } from './job';
import type { JobResult, RunProgress, RunSummary, Target, TriggerInput, TriggerState } from './types';

export const progressQuery = defineQuery<RunProgress>('progress');

/** Temporal refuses more than 2,000 pending children per workflow; stay well below. */
export const MAX_WINDOW = 1000;

const { fetchTargets } = proxyActivities<Activities>({
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
  let cursor = state?.cursor ?? null;
  let inFlight = 0;
  let dispatchedHere = 0;
  let done = false;
  setHandler(progressQuery, () => ({ ...counts, inFlight, cursor, continuedRuns, done }));

  const dispatch = async (target: Target): Promise<void> => {
    try {
      const result: JobResult = await executeChild(jobWorkflow, {
        workflowId: jobWorkflowId(input.batch, input.runKey, target.key),
        args: [{ batch: input.batch, runKey: input.runKey, params: input.params, target, settings: input.job }],
        typedSearchAttributes: [
          { key: searchAttributes.batch, value: input.batch },
          { key: searchAttributes.runKey, value: input.runKey },
          { key: searchAttributes.targetKey, value: target.key },
        ],
      });
      counts[result.outcome]++;
    } catch (err) {
      // Another trigger of the same run is processing this target right now: it is not ours to count.
      if (err instanceof WorkflowExecutionAlreadyStartedError) counts.skipped++;
      else if (err instanceof ChildWorkflowFailure) counts.failed++;
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
      batch: input.batch,
      runKey: input.runKey,
      params: input.params,
      after: cursor,
      limit: input.pageSize,
    });
    for (const target of page) {
      await condition(() => inFlight < window);
      // Dispatch at least one target per run, so a tiny history limit still makes progress.
      if (dispatchedHere > 0 && historyIsLong()) {
        // Children belong to this run: let them finish, then carry the counters and cursor over.
        await condition(() => inFlight === 0);
        return continueAsNew<typeof triggerWorkflow>(input, { counts, cursor, continuedRuns: continuedRuns + 1 });
      }
      inFlight++;
      dispatchedHere++;
      counts.total++;
      cursor = target.key;
      void dispatch(target);
    }
    if (page.length < input.pageSize) break;
  }
  await condition(() => inFlight === 0);
  done = true;
  return counts;
}
