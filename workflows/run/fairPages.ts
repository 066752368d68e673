import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { BOOKKEEPING, bookkeeping } from '../bookkeeping';
import { slices } from '../../src/contracts/slices';
import type { FairCursor } from '../../src/contracts/types';
import type { PageJobs } from './pages';
import type { RunState } from './state';

/** Staging reads the whole target query once: as long as that takes, alive by heartbeat. */
const { stageFairQueue } = proxyActivities<Activities>({ ...BOOKKEEPING, startToCloseTimeout: '2h', heartbeatTimeout: '1m' });
const { takeFairPage, dropFairQueue } = bookkeeping;

/**
 * A fair run's pages (`job.fairnessKey`): its targets are staged once in PostgreSQL with their keys
 * (src/db/fairQueue.ts), then each page takes the next target of every key with room before a second of any,
 * so a tenant of 50 targets is not stuck behind one of 5,000 wherever their keys sort, and no key has more than
 * `maxInFlightPerKey` targets in flight. The jobs of a page alternate between its keys.
 */
export async function nextFairPage(run: RunState, size: number, room?: number): Promise<PageJobs> {
  const { input } = run;
  const trigger = workflowInfo().firstExecutionRunId;
  const cursor: FairCursor = (run.fair ??= { staged: false, pages: 0 });
  if (!cursor.staged) {
    const { source, failures, batch, runKey, params, pageSize } = input;
    await stageFairQueue({ source, ...(failures ? { failures } : {}), batch, runKey, params, after: run.cursor, limit: pageSize, trigger });
    cursor.staged = true;
  }
  const free = (input.window - run.inFlight) * size;
  const limit = Math.max(1, Math.min(input.pageSize, free, room ?? free));
  const inFlight = Object.fromEntries(run.inFlightByKey);
  const { groups, waiting } = await takeFairPage({
    trigger,
    page: ++cursor.pages,
    limit,
    maxInFlightPerKey: input.fairness!.maxInFlightPerKey,
    inFlight,
  });
  if (!waiting) await dropFairQueue({ trigger });
  const byKey = groups.map(({ fairnessKey, targets }) => slices(targets, size).map((targets) => ({ targets, fairnessKey })));
  const jobs = [];
  for (let turn = 0; byKey.some((key) => turn < key.length); turn++) for (const key of byKey) if (turn < key.length) jobs.push(key[turn]);
  return { jobs, last: !waiting };
}
