import type { Db } from '../definitions';
import { tjuTables } from './schema';
import type { FailureRecord, Target } from '../../workflows/types';

export type { FailureRecord };

/** Identifies one target of one run: the idempotency key of its job. */
export interface TargetRef {
  batch: string;
  runKey: string;
  targetKey: string;
}


/**
 * Records that `unit` finished for a target, in the unit's own transaction, and resolves any earlier
 * failure of that target. Returns false when another execution already recorded it: the caller then
 * rolls back, so the unit's writes happen once however often the job runs.
 */
export async function recordDone(tx: Db, ref: TargetRef, unit: string, outcome: string, schema?: string): Promise<boolean> {
  const t = tjuTables(schema);
  const { rows } = await tx.query<{ recorded: number }>(
    `WITH recorded AS (
       INSERT INTO ${t.ledger} (batch, run_key, target_key, unit, outcome) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING RETURNING 1
     ), resolved AS (
       DELETE FROM ${t.failures} WHERE batch = $1 AND run_key = $2 AND target_key = $3
     )
     SELECT count(*)::int AS recorded FROM recorded`,
    [ref.batch, ref.runKey, ref.targetKey, unit, outcome],
  );
  return rows[0].recorded === 1;
}

/** Written when a job gives up on a target; the latest failure of a target replaces the earlier one. */
export async function recordFailure(db: Db, failure: FailureRecord, schema?: string): Promise<void> {
  await db.query(
    `INSERT INTO ${tjuTables(schema).failures} (batch, run_key, target_key, unit, error, error_type, attempts, non_retryable, target)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (batch, run_key, target_key) DO UPDATE SET
       unit = excluded.unit, error = excluded.error, error_type = excluded.error_type,
       attempts = excluded.attempts, non_retryable = excluded.non_retryable, target = excluded.target,
       failed_at = now()`,
    [
      failure.batch,
      failure.runKey,
      failure.targetKey,
      failure.unit,
      failure.error,
      failure.errorType,
      failure.attempts,
      failure.nonRetryable,
      JSON.stringify(failure.target),
    ],
  );
}

/** One keyset page of a run's failed targets, as their jobs carried them: what a retry dispatches. */
export async function failedTargets(
  db: Db,
  ref: { batch: string; runKey: string },
  after: string | null,
  limit: number,
  schema?: string,
): Promise<Target[]> {
  const { rows } = await db.query<{ target: Target }>(
    `SELECT target FROM ${tjuTables(schema).failures}
      WHERE batch = $1 AND run_key = $2 AND ($3::text IS NULL OR target_key > $3)
      ORDER BY target_key LIMIT $4`,
    [ref.batch, ref.runKey, after, limit],
  );
  return rows.map((row) => row.target);
}

/** What `tju clear` would forget, or forgets: the run's ledger and failure records. */
export async function runRecords(db: Db, batch: string, runKey: string, schema?: string) {
  const t = tjuTables(schema);
  const { rows } = await db.query<{ ledger: number; failures: number }>(
    `SELECT (SELECT count(*) FROM ${t.ledger} WHERE batch = $1 AND run_key = $2)::int AS ledger,
            (SELECT count(*) FROM ${t.failures} WHERE batch = $1 AND run_key = $2)::int AS failures`,
    [batch, runKey],
  );
  return rows[0];
}

export async function clearRun(db: Db, batch: string, runKey: string, schema?: string) {
  const t = tjuTables(schema);
  const { rows } = await db.query<{ ledger: number; failures: number }>(
    `WITH ledger AS (DELETE FROM ${t.ledger} WHERE batch = $1 AND run_key = $2 RETURNING 1),
          failures AS (DELETE FROM ${t.failures} WHERE batch = $1 AND run_key = $2 RETURNING 1)
     SELECT (SELECT count(*) FROM ledger)::int AS ledger, (SELECT count(*) FROM failures)::int AS failures`,
    [batch, runKey],
  );
  return rows[0];
}

/** A failure record as `tju failures` shows it. */
export type StoredFailure = Omit<FailureRecord, 'batch' | 'runKey' | 'target'> & { failedAt: Date };

export async function listFailures(db: Db, batch: string, runKey: string, schema?: string): Promise<StoredFailure[]> {
  const { rows } = await db.query<StoredFailure>(
    `SELECT target_key AS "targetKey", unit, error, error_type AS "errorType", attempts,
            non_retryable AS "nonRetryable", failed_at AS "failedAt"
       FROM ${tjuTables(schema).failures} WHERE batch = $1 AND run_key = $2 ORDER BY failed_at, target_key`,
    [batch, runKey],
  );
  return rows;
}
