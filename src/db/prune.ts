import type { Pool } from 'pg';
import { searchValue } from '../contracts/ids';
import { tjuTables } from './schema';
import { inTransaction } from './transaction';

/** Which runs a prune takes: those of `batches` (all when unset) but not of `except`, ended before `before`. */
export interface PruneScope {
  before: Date;
  batches?: string[];
  except?: string[];
}

/**
 * What Temporal says runs now: the batch and run key (as its search attribute holds it) of every trigger
 * workflow it lists as running, from `runningRuns()`. Unset when Temporal could not be asked: then only runs
 * whose every start has a recorded end are pruned.
 */
export type LiveRuns = Set<string>;

export const liveRunKey = (batch: string, runKeyAttribute: string): string => JSON.stringify([batch, runKeyAttribute]);

export interface PruneCounts {
  batch: string;
  runs: number;
  ledger: number;
  failures: number;
  history: number;
}

export interface PruneResult {
  pruned: PruneCounts[];
  /** Runs old enough but kept: running or paused, or not known to have ended. */
  kept: number;
}

/**
 * A run with no recorded end counts as ended only once Temporal lists no trigger of it and it has been quiet
 * this long: visibility lists a trigger that has just started a moment late.
 */
const QUIET_MS = 5 * 60_000;

interface Candidate {
  id: string;
  batch: string;
  run_key: string;
  history_rows: number;
  open_rows: number;
  last_active: Date;
}

/**
 * Counts, and with `apply` deletes in one transaction, the ledger rows, failure records, run history, hook
 * calls and staged bulk chunks of runs that have ended, by their end, before the cutoff. A run that is running or paused is never
 * taken, whatever the cutoff: its ledger is what keeps its targets from a second effect. A run has ended when
 * every start of its trigger recorded its end — or, when Temporal was asked (`live`), when Temporal runs no
 * trigger of it (a terminated trigger never records its end; a run from before run history recorded none).
 * Each run's row in `runs` (its number) stays: a worker that still knows the number must not write under one
 * given to another run.
 */
export async function pruneRuns(pool: Pool, scope: PruneScope, apply: boolean, schema?: string, live?: LiveRuns): Promise<PruneResult> {
  const t = tjuTables(schema);
  return inTransaction(pool, async (tx) => {
    // Locked, so a run that starts meanwhile writes its first history row after this prune, not under it.
    const { rows } = await tx.query<Candidate>(
      `SELECT r.id::text, r.batch, r.run_key, h.history_rows, h.open_rows,
              CASE WHEN h.history_rows > 0 THEN h.last_end
                   ELSE greatest(r.created_at, (SELECT max(l.recorded_at) FROM ${t.ledger} l WHERE l.run_id = r.id),
                                 (SELECT max(f.failed_at) FROM ${t.failures} f WHERE f.run_id = r.id)) END AS last_active
         FROM ${t.runs} r,
              LATERAL (SELECT count(*)::int AS history_rows, count(*) FILTER (WHERE finished_at IS NULL)::int AS open_rows,
                              max(coalesce(finished_at, updated_at)) AS last_end
                         FROM ${t.runHistory} WHERE run_id = r.id) h
        WHERE ($1::text[] IS NULL OR r.batch = ANY($1)) AND NOT (r.batch = ANY($2))
          AND (EXISTS (SELECT 1 FROM ${t.ledger} l WHERE l.run_id = r.id)
               OR EXISTS (SELECT 1 FROM ${t.failures} f WHERE f.run_id = r.id)
               OR h.history_rows > 0
               OR EXISTS (SELECT 1 FROM ${t.hookEvents} e WHERE e.run_id = r.id)
               OR EXISTS (SELECT 1 FROM ${t.stagedChunks} c WHERE c.run_id = r.id)
               OR EXISTS (SELECT 1 FROM ${t.fairQueue} q WHERE q.run_id = r.id))
        ORDER BY r.id
          FOR UPDATE OF r`,
      [scope.batches ?? null, scope.except ?? []],
    );
    let kept = 0;
    const ended = rows.filter((run) => {
      const old = run.last_active < scope.before;
      const recorded = run.history_rows > 0 && run.open_rows === 0;
      const quiet = run.last_active.getTime() < Date.now() - QUIET_MS;
      // Without Temporal's word, only a recorded end counts; with it, a run Temporal runs never ended.
      const ended = live === undefined ? recorded : !live.has(liveRunKey(run.batch, searchValue(run.run_key))) && (recorded || quiet);
      if (old && !ended) kept++;
      return old && ended;
    });
    const ids = ended.map((run) => run.id);
    if (ids.length === 0) return { pruned: [], kept };
    const { rows: pruned } = await tx.query<PruneCounts>(
      `SELECT r.batch, count(*)::int AS runs,
              sum((SELECT count(*) FROM ${t.ledger} l WHERE l.run_id = r.id))::int AS ledger,
              sum((SELECT count(*) FROM ${t.failures} f WHERE f.run_id = r.id))::int AS failures,
              sum((SELECT count(*) FROM ${t.runHistory} h WHERE h.run_id = r.id))::int AS history
         FROM ${t.runs} r WHERE r.id = ANY($1::bigint[]) GROUP BY r.batch ORDER BY r.batch`,
      [ids],
    );
    if (apply) {
      await tx.query(
        `WITH ledger AS (DELETE FROM ${t.ledger} WHERE run_id = ANY($1::bigint[])),
              failures AS (DELETE FROM ${t.failures} WHERE run_id = ANY($1::bigint[])),
              hooks AS (DELETE FROM ${t.hookEvents} WHERE run_id = ANY($1::bigint[])),
              actions AS (DELETE FROM ${t.runActions} WHERE run_id = ANY($1::bigint[])),
              staged AS (DELETE FROM ${t.stagedChunks} WHERE run_id = ANY($1::bigint[])),
              fair AS (DELETE FROM ${t.fairQueue} WHERE run_id = ANY($1::bigint[]))
         DELETE FROM ${t.runHistory} WHERE run_id = ANY($1::bigint[])`,
        [ids],
      );
    }
    return { pruned, kept };
  });
}
