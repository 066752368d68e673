import type { Pool } from 'pg';
import { tjuTables } from './schema';

/** Which runs a prune takes: those of `batches` (all when unset) but not of `except`, last active before `before`. */
export interface PruneScope {
  before: Date;
  batches?: string[];
  except?: string[];
}

export interface PruneCounts {
  batch: string;
  runs: number;
  ledger: number;
  failures: number;
  history: number;
}

// A run is old when its last start or end is before the cutoff: from its history, or, for runs recorded
// before run history existed, from when its row was made.
const oldRuns = (schema?: string) => {
  const t = tjuTables(schema);
  return `SELECT r.id, r.batch FROM ${t.runs} r
     WHERE ($2::text[] IS NULL OR r.batch = ANY($2)) AND NOT (r.batch = ANY($3))
       AND coalesce((SELECT max(greatest(h.started_at, h.finished_at)) FROM ${t.runHistory} h WHERE h.run_id = r.id),
                    r.created_at) < $1
       AND (EXISTS (SELECT 1 FROM ${t.ledger} l WHERE l.run_id = r.id)
            OR EXISTS (SELECT 1 FROM ${t.failures} f WHERE f.run_id = r.id)
            OR EXISTS (SELECT 1 FROM ${t.runHistory} h WHERE h.run_id = r.id))`;
};

/**
 * Counts, and with `apply` deletes in one transaction, the ledger rows, failure records and run history of
 * runs last active before the cutoff. Each run's row in `runs` (its number) stays: a worker that still knows
 * the number must not write under one given to another run.
 */
export async function pruneRuns(pool: Pool, scope: PruneScope, apply: boolean, schema?: string): Promise<PruneCounts[]> {
  const t = tjuTables(schema);
  const args = [scope.before, scope.batches ?? null, scope.except ?? []];
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<PruneCounts>(
      `WITH old AS (${oldRuns(schema)})
       SELECT old.batch, count(*)::int AS runs,
              sum((SELECT count(*) FROM ${t.ledger} l WHERE l.run_id = old.id))::int AS ledger,
              sum((SELECT count(*) FROM ${t.failures} f WHERE f.run_id = old.id))::int AS failures,
              sum((SELECT count(*) FROM ${t.runHistory} h WHERE h.run_id = old.id))::int AS history
         FROM old GROUP BY old.batch ORDER BY old.batch`,
      args,
    );
    if (apply && rows.length) {
      await client.query(
        `WITH old AS (${oldRuns(schema)}),
              ledger AS (DELETE FROM ${t.ledger} WHERE run_id IN (SELECT id FROM old)),
              failures AS (DELETE FROM ${t.failures} WHERE run_id IN (SELECT id FROM old))
         DELETE FROM ${t.runHistory} WHERE run_id IN (SELECT id FROM old)`,
        args,
      );
    }
    await client.query('COMMIT');
    return rows;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
