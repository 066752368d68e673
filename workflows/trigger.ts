import { continueAsNew, patched, proxyActivities } from '@temporalio/workflow';
import { countMetric } from './metrics';
import type { Activities } from '../activities';
import { dispatchTargets } from './run/dispatch';
import { finish } from './run/finish';
import { HistoryRecorder } from './run/history';
import { resolveTriggerInput } from './run/input';
import { jobStarter } from './run/jobs';
import { runPartitions } from './run/partitions';
import { RunState } from './run/state';
import type { RunSummary, TriggerInput, TriggerState } from './types';

/**
 * Runs started from this patch on: workflow IDs no target key can collide with (workflows/ids.ts); a job that
 * another trigger of the run already started is awaited and its result counted, never counted as skipped; a
 * job that ended without saying what it did (terminated, timed out, a bulk chunk that gave up) has its targets
 * settled by the ledger, the rest recorded as failures.
 */
export const EXACTLY_ONCE_EDGES = 'exactly-once-edges';

const { partitionKeys } = proxyActivities<Activities>({ startToCloseTimeout: '1m', retry: { maximumInterval: '1m' } });

/**
 * The Trigger: one run of a batch. It pages through the targets not yet processed and starts a job per target
 * (or chunk), a window of them at a time (workflows/run/dispatch.ts), or splits the run into partitions, each a
 * trigger of its own (run/partitions.ts); it continues as new before its history grows large, and ends with
 * the run's summary (run/finish.ts). A failed target is counted, never fatal to the run — unless the batch sets
 * a failure threshold. Operators pause, resume and cancel it with signals (run/state.ts); its history row is
 * kept in PostgreSQL (run/history.ts).
 */
export async function triggerWorkflow(input: TriggerInput, state?: TriggerState): Promise<RunSummary> {
  const run = new RunState(resolveTriggerInput(input), state);
  // Exported by workers that serve metrics; not emitted while replaying, so a run is counted once.
  if (run.isRun && !state) countMetric('tju_runs_started', 'Runs started', { batch: input.batch });
  run.listen();
  // Behind patches: histories from before each replay without its commands.
  const history = run.isRun && patched('run-history') ? new HistoryRecorder(run) : undefined;
  const unambiguousIds = patched(EXACTLY_ONCE_EDGES);
  await history?.start(state !== undefined);

  if ((run.input.partitions ?? 1) > 1 && !state) {
    const keys = await splitKeys(run);
    if (keys) await runPartitions(run, keys, unambiguousIds);
  } else if (await dispatchTargets(run, jobStarter(run, unambiguousIds))) {
    return continueAsNew<typeof triggerWorkflow>(input, run.carried());
  }
  return finish(run, history);
}

/** The batch's split keys for the run's partitions; none when its query failed (the run stops with it). */
async function splitKeys(run: RunState): Promise<string[] | undefined> {
  try {
    return await partitionKeys({ ...run.input, count: run.input.partitions! });
  } catch (err) {
    run.queryFailed(err);
    return undefined;
  }
}
