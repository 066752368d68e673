import { continueAsNew } from '@temporalio/workflow';
import { bookkeeping } from './bookkeeping';
import { refuseEarlierEngine } from './engine';
import { countMetric } from './metrics';
import { runCanary } from './run/canary';
import { dispatchTargets } from './run/dispatch';
import { finish } from './run/finish';
import { HistoryRecorder } from './run/history';
import { resolveTriggerInput } from './run/input';
import { jobStarter } from './run/jobs';
import { runPartitions } from './run/partitions';
import { RunState } from './run/state';
import type { RunSummary, TriggerInput, TriggerState } from '../src/contracts/types';

const { partitionKeys } = bookkeeping;

/**
 * The Trigger: one run of a batch. It pages through the targets not yet processed and starts a job per target
 * (or chunk), a window of them at a time (workflows/run/dispatch.ts), or splits the run into partitions, each a
 * trigger of its own (run/partitions.ts); it continues as new before its history grows large, and ends with
 * the run's summary (run/finish.ts). A failed target is counted, never fatal to the run — unless the batch sets
 * a failure threshold. Operators pause, resume and cancel it with signals (run/state.ts); its history row is
 * kept in PostgreSQL (run/history.ts).
 */
export async function triggerWorkflow(input: TriggerInput, state?: TriggerState): Promise<RunSummary> {
  refuseEarlierEngine(input, 'run');
  const run = new RunState(resolveTriggerInput(input), state);
  // Exported by workers that serve metrics; not emitted while replaying, so a run is counted once.
  if (run.isRun && !state) countMetric('tju_runs_started', 'Runs started', { batch: input.batch });
  run.listen();
  const history = run.isRun ? new HistoryRecorder(run) : undefined;
  await history?.start(state !== undefined);

  const startJob = jobStarter(run);
  // A canary runs first, in this trigger, partitioned or not; the partitions split what it left.
  if (run.input.canary && !state) await runCanary(run, startJob);
  if (run.stopped || run.exhausted) return finish(run, history);
  if ((run.input.partitions ?? 1) > 1 && !state) {
    const keys = await splitKeys(run);
    if (keys) await runPartitions(run, keys);
  } else if (await dispatchTargets(run, startJob)) {
    return continueAsNew<typeof triggerWorkflow>(input, run.carried());
  }
  return finish(run, history);
}

/** The batch's split keys for the run's partitions, past its cursor; none when its query failed (the run stops with it). */
async function splitKeys(run: RunState): Promise<string[] | undefined> {
  try {
    return await partitionKeys({ ...run.input, after: run.cursor, count: run.input.partitions! });
  } catch (err) {
    run.queryFailed(err);
    return undefined;
  }
}
