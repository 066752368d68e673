import { bookkeeping } from '../bookkeeping';
import type { JobTargets } from '../../src/contracts/types';
import { chainOf, runsLocally } from '../../src/contracts/chain';
import { slices } from '../../src/contracts/slices';
import type { RunState } from './state';

const { fetchTargets } = bookkeeping;

/** One job of a page: its targets, and the fairness key they share in a fair run. */
export interface PageJob {
  targets: JobTargets;
  fairnessKey?: string;
}

/** A page's jobs, and whether the run has no page after it. */
export interface PageJobs {
  jobs: PageJob[];
  last: boolean;
}

/**
 * Whether this run's pages are staged in PostgreSQL as chunks (src/db/stagedChunks.ts), so the history carries a
 * row number per chunk instead of its targets: bulk's, and per-chunk's when every unit is local (such a chunk
 * runs in one local activity that reads the staged rows itself).
 */
export function stagesChunks({ input }: RunState): boolean {
  if (input.granularity === 'bulk') return true;
  return input.granularity === 'per-chunk' && runsLocally(chainOf(input.job));
}

/**
 * The next keyset page as its jobs' targets (`size` to a job, or the chunks a staged page holds), and whether
 * it is the last: a short page is, unless the fetch cut it to fit a payload. A query that failed for good
 * stops the run (it could not tell what is left to do). `room` cuts the page to that many targets.
 */
export async function nextPage(run: RunState, size: number, staged: boolean, room?: number): Promise<PageJobs> {
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
    if (Array.isArray(fetched)) return { jobs: jobsOf(slices(fetched, size)), last: fetched.length < limit };
    if ('chunks' in fetched) return { jobs: jobsOf(fetched.chunks), last: !fetched.more };
    return { jobs: jobsOf(slices(fetched.targets, size)), last: false };
  } catch (err) {
    run.queryFailed(err);
    return { jobs: [], last: true };
  }
}

const jobsOf = (all: JobTargets[]): PageJob[] => all.map((targets) => ({ targets }));
