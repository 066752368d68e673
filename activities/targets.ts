import { ApplicationFailure, Context } from '@temporalio/activity';
import { cachedRunId, failedTargets } from '../src/db/ledger';
import { isConnectionError } from '../src/db/pool';
import { noteRunProblem } from '../src/db/runHistory';
import { stageChunks } from '../src/db/stagedChunks';
import { NonRetryableError, nonRetryable } from '../src/errors';
import { checkTargetRows } from '../src/targets';
import type { CutPage, FetchTargetsRequest, StagedPage, Target } from '../src/contracts/types';
import { batchOf, type ActivityDeps } from './deps';
import type { Batch } from '../src/batch';

/** Attempts of a failing target query (not a lost connection) before the run fails with its error. */
export const TARGET_QUERY_ATTEMPTS = 5;

/**
 * The most JSON a page of targets may take. A page travels through the trigger's history whole (the fetch's
 * result) and again as its jobs' inputs, and a worker or client reads that history 256 events at a time in
 * one gRPC message, which the TypeScript client caps at 4 MB. A bulk trigger's 256 events held about 33 pages
 * and their chunk inputs: pages of 64 KB made a 4.29 MB message, which the client refused. At 32 KB it stays
 * near 2.2 MB. Lean rows (a key and a few options, ~45 bytes) fill about 700 to a page; fat rows fewer.
 */
export const PAGE_BYTES = 32 * 1024;

/** The page as the trigger takes it: whole, or its first targets within `PAGE_BYTES` (at least one) and a "more". */
export function fitPage(targets: Target[], maxBytes = PAGE_BYTES): Target[] | CutPage {
  let bytes = 0;
  for (const [i, target] of targets.entries()) {
    bytes += Buffer.byteLength(JSON.stringify(target));
    if (bytes > maxBytes && i > 0) return { targets: targets.slice(0, i), more: true };
  }
  return targets;
}

/** How the trigger's activities read targets: a query retried a few times, and one checked keyset page. */
export function targetReads({ pool, schema }: ActivityDeps) {
  /** A failing query is retried a few times (a lock timeout passes); then the run fails with its error. */
  const runQuery = async <T>(request: { batch: string; runKey: string }, query: () => Promise<T>): Promise<T> => {
    const { attempt } = Context.current().info;
    try {
      const result = await query();
      if (attempt > 1) await noteRunProblem(pool, request.batch, request.runKey, null, schema).catch(() => undefined);
      return result;
    } catch (err) {
      // A lost connection is an outage, not the query's fault: retried until the database answers.
      if (isConnectionError(err)) throw err;
      const message = err instanceof Error ? err.message : String(err);
      const last = attempt >= TARGET_QUERY_ATTEMPTS || err instanceof NonRetryableError;
      const problem = `target query ${last ? 'failed' : `failing (attempt ${attempt} of ${TARGET_QUERY_ATTEMPTS})`}: ${message}`;
      await noteRunProblem(pool, request.batch, request.runKey, problem, schema).catch(() => undefined);
      if (last) throw ApplicationFailure.create({ type: 'TargetQueryFailed', message, nonRetryable: true });
      throw err;
    }
  };

  /** One keyset page of the run's targets, checked (every row has a key, none twice). */
  const readPage = async (request: FetchTargetsRequest, batch?: Batch): Promise<Target[]> => {
    if (!batch) return failedTargets(pool, { ...request, filter: request.failures }, schema);
    const page = { params: request.params, runKey: request.runKey, after: request.after, upTo: request.upTo ?? null, limit: request.limit };
    const rows = await batch.targets(pool, page);
    return nonRetryable(() => checkTargetRows(batch.name, rows, request.after));
  };
  return { runQuery, readPage };
}

/** The Trigger's reads: pages of the batch's target query (or a run's open failures), and partition keys. */
export function targetActivities(deps: ActivityDeps) {
  const { pool, batches, schema } = deps;
  const { runQuery, readPage } = targetReads(deps);
  return {
    /**
     * One page of the Trigger's targets: within `PAGE_BYTES` for jobs that carry their targets, or, for bulk,
     * staged in PostgreSQL as chunks whose rows the trigger passes on (any size: they cross no history).
     */
    async fetchTargets(request: FetchTargetsRequest): Promise<Target[] | CutPage | StagedPage> {
      // A batch this worker does not define is not the query's failure: the fetch is left to another worker.
      const batch = request.source === 'failures' ? undefined : batchOf(batches, request.batch);
      return runQuery(request, async () => {
        const page = await readPage(request, batch);
        if (!request.stageChunks) return fitPage(page);
        const runId = await cachedRunId(pool, request, schema);
        return { chunks: await stageChunks(pool, runId, page, request.stageChunks, schema), more: page.length >= request.limit };
      });
    },

    /** Split keys of a partitioned run, from the batch's partitionKeys query. */
    async partitionKeys(request: {
      batch: string;
      runKey: string;
      params: Record<string, unknown>;
      count: number;
      /** Where the partitions start (past a canary): split keys that bound no target past it are dropped. */
      after?: string | null;
    }): Promise<string[]> {
      const batch = batchOf(batches, request.batch);
      if (!batch.partitionKeys) throw ApplicationFailure.nonRetryable(`${batch.name} defines no partitionKeys`);
      const { params, runKey, count, after } = request;
      return runQuery(request, async () => {
        const keys = (await batch.partitionKeys!(pool, { params, runKey, count })).map(String);
        if (after === undefined || after === null) return keys;
        // Only the target query knows its keys' order: a split key stays when a target lies between the last kept
        // bound and it; one with none there (before \`after\`, or an empty range) would only bound an empty partition.
        const kept: string[] = [];
        for (const upTo of keys) {
          const between = await batch.targets(pool, { params, runKey, after: kept.at(-1) ?? after, upTo, limit: 1 });
          if (between.length > 0) kept.push(upTo);
        }
        return kept;
      });
    },
  };
}
