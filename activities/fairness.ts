import { Context } from '@temporalio/activity';
import { cachedRunId } from '../src/db/ledger';
import { dropFairQueue, stageFairTargets, takeFairPage, type FairPageRequest } from '../src/db/fairQueue';
import { NonRetryableError, nonRetryable } from '../src/errors';
import { fairnessKeyOf } from '../src/targets';
import type { FairGroup, FetchTargetsRequest, Target } from '../src/contracts/types';
import { batchOf, type ActivityDeps } from './deps';
import { targetReads } from './targets';

/** The most targets a fair page carries through the trigger's history (its jobs' inputs carry them again). */
const FAIR_PAGE_TARGETS = 500;

/** A fair run's queue (src/db/fairQueue.ts): staged once, then taken a page at a time. */
export function fairActivities(deps: ActivityDeps) {
  const { pool, batches, schema } = deps;
  const { runQuery, readPage } = targetReads(deps);

  return {
    /**
     * Pages through the run's targets once, writing each with its fairness key. Bounded memory: one page at a
     * time. Resumed after a crash from its last heartbeat; a page written twice adds nothing.
     */
    async stageFairQueue(request: Omit<FetchTargetsRequest, 'stageChunks'> & { trigger: string }): Promise<number> {
      const batch = batchOf(batches, request.batch);
      const keyOf = batch.job.fairnessKey;
      if (!keyOf) throw new NonRetryableError(`${batch.name} names no job.fairnessKey`);
      const runId = await cachedRunId(pool, request, schema);
      const resumed = Context.current().info.heartbeatDetails as { after: string | null; seq: number } | undefined;
      let { after, seq } = resumed ?? { after: request.after, seq: 0 };
      for (;;) {
        const page: Target[] = await runQuery(request, async () => {
          const targets = await readPage({ ...request, after }, request.source === 'failures' ? undefined : batch);
          const rows = targets.map((target) => ({ fairnessKey: nonRetryable(() => fairnessKeyOf(batch.name, keyOf, target)), target }));
          await stageFairTargets(pool, { runId, trigger: request.trigger }, rows, seq, schema);
          return targets;
        });
        seq += page.length;
        if (page.length < request.limit) return seq;
        after = page[page.length - 1].key;
        Context.current().heartbeat({ after, seq });
      }
    },

    /** The next fair page (the same one when asked again), and whether any target still waits. */
    async takeFairPage(request: FairPageRequest): Promise<{ groups: FairGroup[]; waiting: boolean }> {
      return takeFairPage(pool, { ...request, limit: Math.min(request.limit, FAIR_PAGE_TARGETS) }, schema);
    },

    /** The queue of a trigger that has taken every target. */
    async dropFairQueue({ trigger }: { trigger: string }): Promise<void> {
      await dropFairQueue(pool, trigger, schema);
    },
  };
}
