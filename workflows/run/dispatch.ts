import { CancellationScope, condition, isCancellation, workflowInfo } from '@temporalio/workflow';
import { countMetric } from '../metrics';
import type { StartJob } from './jobs';
import { countEnd } from './outcome';
import { countOf, keyRangeOf } from '../../src/contracts/slices';
import { nextFairPage } from './fairPages';
import { nextPage, stagesChunks, type PageJob, type PageJobs } from './pages';
import type { RunState } from './state';

/**
 * The Trigger's loop: pages through the targets not yet processed (keyset, never OFFSET), starts a job per
 * target or chunk with at most `window` in flight, holds while paused, and stops when cancelled or past the
 * batch's threshold. True when the history grew long: the jobs in flight have finished and the run should
 * continue as new, carrying its counts and cursor. With `limit` (a canary) it dispatches at most that many
 * targets — its pages are cut to fit, so no chunk holds one more — and never continues as new.
 */
export async function dispatchTargets(run: RunState, startJob: StartJob, limit?: number): Promise<boolean> {
  const { input } = run;
  const size = input.granularity === 'per-target' ? 1 : input.chunkSize;
  const staged = stagesChunks(run);
  let dispatchedHere = 0;
  let targetsHere = 0;
  for (;;) {
    const room = limit === undefined ? undefined : limit - targetsHere;
    if (room === 0) break;
    // A fair page's targets leave its queue when it is taken: the run continues as new between pages only.
    if (input.fairness) {
      const next = await continueAsNewNow(run, limit, dispatchedHere);
      if (next) return true;
      if (next === false) break;
    }
    const { jobs, last } = await pageOf(run, size, staged, room);
    for (const job of jobs) {
      const { targets } = job;
      // Paused: dispatch nothing new until resumed or cancelled; the jobs in flight finish meanwhile.
      await condition(() => run.stopped !== undefined || (!run.paused && run.inFlight < input.window));
      if (run.stopped) break;
      if (!input.fairness) {
        const next = await continueAsNewNow(run, limit, dispatchedHere);
        if (next) return true;
        if (next === false) break;
      }
      run.inFlight++;
      dispatchedHere++;
      targetsHere += countOf(targets);
      run.counts.total += countOf(targets);
      if (!input.fairness) run.cursor = keyRangeOf(targets)[1];
      void dispatch(run, job, startJob);
    }
    if (last) run.exhausted = true;
    if (run.stopped || last) break;
  }
  await condition(() => run.inFlight === 0);
  return false;
}

/**
 * One job, in a cancellation scope of its own (`cancel --now` cancels the jobs in flight and nothing else),
 * counted when it ends. An error no job should end with stops the run deliberately, with its message, rather
 * than failing the trigger's workflow task again and again.
 */
async function dispatch(run: RunState, { targets, fairnessKey }: PageJob, startJob: StartJob): Promise<void> {
  const batch = run.input.batch;
  if (fairnessKey !== undefined) run.inFlightByKey.set(fairnessKey, (run.inFlightByKey.get(fairnessKey) ?? 0) + countOf(targets));
  const scope = new CancellationScope();
  run.jobsInFlight.add(scope);
  countMetric('tju_jobs_started', 'Jobs (child workflows or bulk chunks) dispatched', { batch });
  let outcome = 'completed';
  try {
    outcome = await scope.run(async () => countEnd(run, targets, await startJob(targets, fairnessKey)));
  } catch (err) {
    if (isCancellation(err)) {
      outcome = 'cancelled';
      run.counts.cancelled = (run.counts.cancelled ?? 0) + countOf(targets);
    } else {
      outcome = 'failed';
      run.counts.failed += countOf(targets);
      run.stop({ state: 'failed', reason: `a job ended with an error tju does not expect: ${(err as Error)?.message ?? String(err)}` });
    }
  } finally {
    countMetric('tju_jobs_finished', 'Jobs ended, by outcome', { batch, outcome });
    run.jobsInFlight.delete(scope);
    run.inFlight--;
    run.jobsEnded++;
    if (fairnessKey !== undefined) {
      const left = run.inFlightByKey.get(fairnessKey)! - countOf(targets);
      if (left > 0) run.inFlightByKey.set(fairnessKey, left);
      else run.inFlightByKey.delete(fairnessKey);
    }
    run.checkThreshold();
  }
}

/**
 * The next page: the keyset page of the target query, or a fair run's next round by key. A fair page waits for
 * room in the window, and takes nothing while every key that waits has its bound in flight: it asks again once
 * a job has ended. A query that failed for good stops the run (it could not tell what is left to do).
 */
async function pageOf(run: RunState, size: number, staged: boolean, room?: number): Promise<PageJobs> {
  if (!run.input.fairness) return nextPage(run, size, staged, room);
  for (;;) {
    await condition(() => run.stopped !== undefined || (!run.paused && run.inFlight < run.input.window));
    if (run.stopped) return { jobs: [], last: false };
    const [ended, busy] = [run.jobsEnded, run.inFlight];
    let page: PageJobs;
    try {
      page = await nextFairPage(run, size, room);
    } catch (err) {
      run.queryFailed(err);
      return { jobs: [], last: true };
    }
    if (page.jobs.length || page.last) return page;
    if (busy === 0) {
      run.stop({ state: 'failed', reason: 'the fair queue gave no target while none was in flight' });
      return page;
    }
    await condition(() => run.stopped !== undefined || run.jobsEnded > ended);
  }
}

/**
 * Whether the run continues as new here: its history is long (and it has dispatched at least one job, so a tiny
 * history limit still makes progress; never in a canary). Its jobs belong to it: they finish first, and the
 * counters and cursor are carried over. False: it was cancelled or stopped meanwhile, so it ends here; undefined:
 * it goes on.
 */
async function continueAsNewNow(run: RunState, limit: number | undefined, dispatchedHere: number): Promise<boolean | undefined> {
  if (limit !== undefined || dispatchedHere === 0 || !historyIsLong(run)) return undefined;
  await condition(() => run.inFlight === 0);
  return !run.stopped;
}

function historyIsLong(run: RunState): boolean {
  const info = workflowInfo();
  return info.historyLength >= run.input.maxHistoryEvents || info.continueAsNewSuggested;
}
