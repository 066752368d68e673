import type { Db } from '../db/types';
import type { RunRecordUpdate, RunSummary } from '../contracts/types';
import { runIdOf } from './ledger';
import { tjuTables } from './schema';

/** A run's row in `run_history`, as `tju runs` and `tju status` show it once Temporal has dropped the run. */
export interface RunRecord extends Pick<RunRecordUpdate, 'batch' | 'runKey' | 'workflowId' | 'executionId' | 'kind' | 'params' | 'state'> {
  startedAt: Date;
  finishedAt: Date | null;
  counts: RunSummary | null;
  reason: string | null;
  /** What holds the run up now (its target query failing), while it runs. */
  problem: string | null;
  /** Its trace, when its workers traced it (OpenTelemetry). */
  traceId: string | null;
}

/**
 * Writes what the trigger knows of its run now: its start, a pause or resume, its counts at continue-as-new,
 * its end. One upsert, so a retried call, or an end whose start was never written, comes out the same; a row
 * that has ended is never changed again (a late pause does not reopen it).
 */
export async function recordRun(db: Db, update: RunRecordUpdate, schema?: string): Promise<void> {
  const runId = await runIdOf(db, update.batch, update.runKey, schema);
  await db.query(
    `INSERT INTO ${tjuTables(schema).runHistory} AS h
       (workflow_id, execution_id, run_id, kind, params, state, started_at, finished_at, counts, reason, trace_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8 THEN now() END, $9, $10, $11)
     ON CONFLICT (workflow_id, execution_id) DO UPDATE SET
       state = excluded.state, finished_at = excluded.finished_at, counts = coalesce(excluded.counts, h.counts),
       started_at = excluded.started_at,
       reason = excluded.reason, updated_at = now(), trace_id = coalesce(h.trace_id, excluded.trace_id),
       problem = CASE WHEN excluded.finished_at IS NULL THEN h.problem END
     WHERE h.finished_at IS NULL`,
    [
      update.workflowId,
      update.executionId,
      runId,
      update.kind,
      JSON.stringify(update.params),
      update.state,
      update.startedAt,
      update.finished,
      update.counts ? JSON.stringify(update.counts) : null,
      update.reason ?? null,
      update.traceId ?? null,
    ],
  );
}

/**
 * Notes a start the moment a client makes it, before any worker has run its trigger, so `tju status` knows of a
 * re-run even while it waits for a worker. Never changes a row that exists (the trigger's writes are the truth,
 * its start time included).
 */
export async function recordStart(
  db: Db,
  start: Pick<RunRecordUpdate, 'batch' | 'runKey' | 'workflowId' | 'executionId' | 'kind' | 'params'>,
  schema?: string,
): Promise<void> {
  const runId = await runIdOf(db, start.batch, start.runKey, schema);
  await db.query(
    `INSERT INTO ${tjuTables(schema).runHistory} (workflow_id, execution_id, run_id, kind, params, state, started_at)
     VALUES ($1, $2, $3, $4, $5, 'running', now()) ON CONFLICT (workflow_id, execution_id) DO NOTHING`,
    [start.workflowId, start.executionId, runId, start.kind, JSON.stringify(start.params)],
  );
}

/**
 * Says what holds a run up while it is retried (its target query failing), on its open history rows; null
 * clears it. Best effort: the run goes on whether this is written or not.
 */
export async function noteRunProblem(db: Db, batch: string, runKey: string, problem: string | null, schema?: string): Promise<void> {
  const t = tjuTables(schema);
  await db.query(
    `UPDATE ${t.runHistory} SET problem = $3, updated_at = now()
      WHERE run_id = (SELECT id FROM ${t.runs} WHERE batch = $1 AND run_key = $2) AND finished_at IS NULL
        AND problem IS DISTINCT FROM $3`,
    [batch, runKey, problem],
  );
}

/** A history row's columns as a RunRecord, from `h` (run_history) joined to `r` (runs) as `runRecordSource` names them. */
export const runRecordColumns = `r.batch, r.run_key AS "runKey", h.workflow_id AS "workflowId",
  h.execution_id AS "executionId", h.kind, h.params, h.state, h.started_at AS "startedAt",
  h.finished_at AS "finishedAt", h.counts, h.reason, h.problem, h.trace_id AS "traceId"`;

export const runRecordSource = (t: ReturnType<typeof tjuTables>) => `${t.runHistory} h JOIN ${t.runs} r ON r.id = h.run_id`;

const columns = (t: ReturnType<typeof tjuTables>) => `${runRecordColumns} FROM ${runRecordSource(t)}`;

/** A batch's recorded runs, newest first; of one run key when given. */
export async function listRunRecords(
  db: Db,
  batch: string,
  { runKey, limit = 20 }: { runKey?: string; limit?: number } = {},
  schema?: string,
): Promise<RunRecord[]> {
  const { rows } = await db.query<RunRecord>(
    `SELECT ${columns(tjuTables(schema))}
      WHERE r.batch = $1 AND ($2::text IS NULL OR r.run_key = $2)
      ORDER BY h.started_at DESC LIMIT $3`,
    [batch, runKey ?? null, limit],
  );
  return rows;
}
