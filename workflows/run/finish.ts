import { ActivityFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import { countMetric } from '../metrics';
import type { Activities } from '../../activities';
import { bookkeeping } from '../bookkeeping';
import type { RunSummary, Verification } from '../../src/contracts/types';
import type { HistoryRecorder } from './history';
import type { RunState } from './state';

const { runFailed, runCompleted } = bookkeeping;

/** `trigger: { verify: true }`: pages the whole target query once; a failure is reported, not fatal. */
const { verifyRun } = proxyActivities<Activities>({
  startToCloseTimeout: '1h',
  heartbeatTimeout: '1m',
  retry: { maximumInterval: '30s', maximumAttempts: 3 },
});

/**
 * The end of a trigger: for the run's own, its verification (when the batch asks), its hooks' events (the
 * workers call the hooks apart from the run) and the last history write. Returns the run's summary.
 */
export async function finish(run: RunState, history: HistoryRecorder | undefined): Promise<RunSummary> {
  const { input, counts } = run;
  const event = () => ({ batch: input.batch, runKey: input.runKey, workflowId: workflowInfo().workflowId, summary: counts });
  if (run.stopped) counts.stopped = run.stopped;
  if (input.verify && run.isRun) counts.verified = await verify(run);
  if (counts.failed > 0 && run.isRun) await runFailed(event());
  if (input.onComplete && run.isRun) await runCompleted(event());
  run.done = true;
  if (run.isRun) countMetric('tju_runs_finished', 'Runs ended, by state', { batch: input.batch, state: run.stopped?.state ?? 'completed' });
  await history?.end();
  return counts;
}

/** Every target the query still selects has a ledger row per applicable step or an open failure record. */
async function verify({ input }: RunState): Promise<Verification> {
  try {
    return await verifyRun({ batch: input.batch, runKey: input.runKey, params: input.params });
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    return { checked: 0, lost: 0, sample: [], error: (err.cause ?? err).message };
  }
}
