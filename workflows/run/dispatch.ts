import { CancellationScope, condition, isCancellation, workflowInfo } from '@temporalio/workflow';
import { countMetric } from '../metrics';
import { bookkeeping } from '../bookkeeping';
import type { JobTargets } from '../../src/contracts/types';
import type { StartJob } from './jobs';
import { chainOf, runsLocally } from '../../src/contracts/chain';
import { countEnd } from './outcome';
import { countOf, keyRangeOf, slices } from '../../src/contracts/slices';
import type { RunState } from './state';

const { fetchTargets } = bookkeeping;

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
    const { jobs, last } = await nextPage(run, size, staged, room);
    for (const targets of jobs) {
      // Paused: dispatch nothing new until resumed or cancelled; the jobs in flight finish meanwhile.
      await condition(() => run.stopped !== undefined || (!run.paused && run.inFlight < input.window));
      if (run.stopped) break;
      // Dispatch at least one job per run, so a tiny history limit still makes progress.
      if (limit === undefined && dispatchedHere > 0 && historyIsLong(run)) {
        // Children belong to this run: let them finish, then carry the counters and cursor over.
        await condition(() => run.inFlight === 0);
        if (!run.stopped) return true; // cancelled or past its threshold meanwhile: end here, not in a new run
        break;
      }
      run.inFlight++;
      dispatchedHere++;
      targetsHere += countOf(targets);
      run.counts.total += countOf(targets);
      run.cursor = keyRangeOf(targets)[1];
      void dispatch(run, targets, startJob);
    }
    if (last) run.exhausted = true;
    if (run.stopped || last) break;
  }
  await condition(() => run.inFlight === 0);
  return false;
}

/**
 * Whether this run's pages are staged in PostgreSQL as chunks (src/db/stagedChunks.ts), so the history carries a
 * row number per chunk instead of its targets: bulk's, and per-chunk's when every unit is local (such a chunk
 * runs in one local activity that reads the staged rows itself).
 */
function stagesChunks({ input }: RunState): boolean {
  if (input.granularity === 'bulk') return true;
  return input.granularity === 'per-chunk' && runsLocally(chainOf(input.job));
}

/**
 * The next keyset page as its jobs' targets (`size` to a job, or the chunks a staged page holds), and whether
 * it is the last: a short page is, unless the fetch cut it to fit a payload. A query that failed for good
 * stops the run (it could not tell what is left to do). `room` cuts the page to that many targets.
 */
async function nextPage(run: RunState, size: number, staged: boolean, room?: number): Promise<{ jobs: JobTargets[]; last: boolean }> {
  const { input } = run;
  const limit = Math.min(input.pageSize, room ?? input.pageSize);
  try {
    const fetched = await fetchTargets({
      source: input.source,
      ...(input.failures ? { failures: input.failures } : {}),
      batch: input.batch,
      runKey: input.runKey,
      params: input.params,
      after: run.cursor,
      upTo: input.upTo,
      limit,
      ...(staged ? { stageChunks: size } : {}),
    });
    if (Array.isArray(fetched)) return { jobs: slices(fetched, size), last: fetched.length < limit };
    if ('chunks' in fetched) return { jobs: fetched.chunks, last: !fetched.more };
    return { jobs: slices(fetched.targets, size), last: false };
  } catch (err) {
    run.queryFailed(err);
    return { jobs: [], last: true };
  }
}

/**
 * One job, in a cancellation scope of its own (`cancel --now` cancels the jobs in flight and nothing else),
 * counted when it ends. An error no job should end with stops the run deliberately, with its message, rather
 * than failing the trigger's workflow task again and again.
 */
async function dispatch(run: RunState, targets: JobTargets, startJob: StartJob): Promise<void> {
  const batch = run.input.batch;
  const scope = new CancellationScope();
  run.jobsInFlight.add(scope);
  countMetric('tju_jobs_started', 'Jobs (child workflows or bulk chunks) dispatched', { batch });
  let outcome = 'completed';
  try {
    outcome = await scope.run(async () => countEnd(run, targets, await startJob(targets)));
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
    run.checkThreshold();
  }
}

function historyIsLong(run: RunState): boolean {
  const info = workflowInfo();
  return info.historyLength >= run.input.maxHistoryEvents || info.continueAsNewSuggested;
}
