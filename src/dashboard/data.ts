// What the dashboard reads from tju's tables: every query bound, every list keyset-paged or limited.
import type { Db } from '../db/types';
import { tjuTables } from '../db/schema';
import { runRecordColumns, runRecordSource, type RunRecord } from '../db/runHistory';

/** One start of a run's trigger (the run, a re-run, a retry), as the run history recorded it. */
export interface RunRow extends RunRecord {
  /** tju's number of the run key (`runs.id`): its ledger, failures and actions hang on it. */
  id: string;
  /** Where the next page starts (this row's exact start, as PostgreSQL has it). */
  cursor: string;
}

export interface RunFilter {
  batch?: string;
  state?: string;
  /** Started on or after this date / before the day after this date (YYYY-MM-DD, UTC). */
  from?: string;
  to?: string;
  /** A row's cursor: the page after it. */
  after?: string;
}

const runColumns = `${runRecordColumns}, r.id::text AS id,
  h.started_at::text || '|' || h.workflow_id || '|' || h.execution_id AS cursor`;

/** Every recorded run, newest first, one page; `more` says whether another follows. */
export async function listRuns(db: Db, filter: RunFilter, limit: number, schema?: string): Promise<{ rows: RunRow[]; more: boolean }> {
  const t = tjuTables(schema);
  const [at, workflowId, executionId] = splitCursor(filter.after);
  const { rows } = await db.query<RunRow>(
    `SELECT ${runColumns}
       FROM ${runRecordSource(t)}
      WHERE ($1::text IS NULL OR r.batch = $1) AND ($2::text IS NULL OR h.state = $2)
        AND ($3::date IS NULL OR h.started_at >= $3::date) AND ($4::date IS NULL OR h.started_at < $4::date + 1)
        AND ($5::timestamptz IS NULL OR (h.started_at, h.workflow_id, h.execution_id) < ($5, $6, $7))
      ORDER BY h.started_at DESC, h.workflow_id DESC, h.execution_id DESC
      LIMIT $8`,
    [filter.batch ?? null, filter.state ?? null, filter.from ?? null, filter.to ?? null, at, workflowId, executionId, limit + 1],
  );
  return { rows: rows.slice(0, limit), more: rows.length > limit };
}

function splitCursor(cursor?: string): [string | null, string | null, string | null] {
  if (!cursor) return [null, null, null];
  const [at, workflowId, ...rest] = cursor.split('|');
  return [at, workflowId ?? '', rest.join('|')];
}

/** The batches that have runs: the runs page's filter. */
export async function batchesWithRuns(db: Db, schema?: string): Promise<string[]> {
  const { rows } = await db.query<{ batch: string }>(`SELECT DISTINCT batch FROM ${tjuTables(schema).runs} ORDER BY batch`);
  return rows.map((row) => row.batch);
}

/** A run key's row and every start of its triggers, newest first; undefined when there is no such run. */
export async function runById(
  db: Db,
  id: string,
  schema?: string,
): Promise<{ batch: string; runKey: string; starts: RunRow[] } | undefined> {
  const t = tjuTables(schema);
  const run = await db.query<{ batch: string; runKey: string }>(`SELECT batch, run_key AS "runKey" FROM ${t.runs} WHERE id = $1`, [id]);
  if (!run.rows.length) return undefined;
  const { rows } = await db.query<RunRow>(
    `SELECT ${runColumns} FROM ${runRecordSource(t)} WHERE r.id = $1
      ORDER BY h.started_at DESC LIMIT 100`,
    [id],
  );
  return { ...run.rows[0], starts: rows };
}

/** Per step (unit): targets succeeded and skipped (ledger rows), and failed (open failure records). */
export interface StepCount {
  unit: string;
  succeeded: number;
  skipped: number;
  failed: number;
}

export async function stepCounts(db: Db, id: string, schema?: string): Promise<StepCount[]> {
  const t = tjuTables(schema);
  const { rows } = await db.query<StepCount>(
    `SELECT unit, sum(succeeded)::int AS succeeded, sum(skipped)::int AS skipped, sum(failed)::int AS failed FROM (
       SELECT unit, count(*) FILTER (WHERE NOT skipped) AS succeeded, count(*) FILTER (WHERE skipped) AS skipped, 0 AS failed
         FROM ${t.ledger} WHERE run_id = $1 GROUP BY unit
       UNION ALL
       SELECT f.unit, 0, 0, count(*) FROM ${t.failures} f
        WHERE f.run_id = $1
          AND NOT EXISTS (SELECT 1 FROM ${t.ledger} l WHERE l.run_id = f.run_id AND l.target_key = f.target_key AND l.unit = f.unit)
        GROUP BY f.unit) c
     GROUP BY unit ORDER BY unit`,
    [id],
  );
  return rows;
}

/** Units finished per time bucket, from the ledger's `recorded_at`: the run's throughput over time. */
export async function throughput(db: Db, id: string, schema?: string): Promise<{ bucketSeconds: number; points: Array<[number, number]> }> {
  const t = tjuTables(schema);
  const span = await db.query<{ first: Date | null; last: Date | null }>(
    `SELECT min(recorded_at) AS first, max(recorded_at) AS last FROM ${t.ledger} WHERE run_id = $1`,
    [id],
  );
  const { first, last } = span.rows[0];
  if (!first || !last) return { bucketSeconds: 1, points: [] };
  // About 120 points, whatever the run's length.
  const bucketSeconds = Math.max(1, Math.ceil((last.getTime() - first.getTime()) / 1000 / 120));
  const { rows } = await db.query<{ t: number; n: number }>(
    `SELECT (floor(extract(epoch FROM recorded_at) / $2) * $2)::float8 AS t, count(*)::int AS n
       FROM ${t.ledger} WHERE run_id = $1 GROUP BY 1 ORDER BY 1`,
    [id, bucketSeconds],
  );
  // Buckets with nothing finished (a pause, a stall) are zeros, not a line drawn across the gap.
  const counts = new Map(rows.map((row) => [row.t, row.n]));
  const points: Array<[number, number]> = [];
  for (let at = rows[0].t; at <= rows[rows.length - 1].t; at += bucketSeconds) points.push([at, (counts.get(at) ?? 0) / bucketSeconds]);
  return { bucketSeconds, points };
}

/** One entry of a target's timeline: a ledger row, an open or resolved failure, a retry of a run it failed in. */
export interface TimelineEntry {
  at: Date;
  kind: 'ledger' | 'failure' | 'retry';
  runId: string;
  batch: string;
  runKey: string;
  unit: string;
  /** succeeded / skipped for a ledger row; the error for a failure. */
  what: string;
  attempts?: number;
  /** A failure whose unit has since a ledger row for the target. */
  resolved?: boolean;
  target?: Record<string, unknown>;
  /** The trace of the run's start it happened in, when its workers traced it. */
  traceId?: string | null;
}

/**
 * Everything tju recorded of one target key across runs (of one batch when given), newest first. Each run's
 * rows are found by the ledger's and failures' primary keys (run, target), one probe per run: no index on the
 * target key alone, so the units' hot path pays nothing for this page.
 */
export async function targetTimeline(
  db: Db,
  targetKey: string,
  batch: string | undefined,
  limit: number,
  schema?: string,
): Promise<TimelineEntry[]> {
  const t = tjuTables(schema);
  const { rows } = await db.query<TimelineEntry>(
    `SELECT e.*, (SELECT h.trace_id FROM ${t.runHistory} h
                    WHERE h.run_id = e."runId"::bigint AND h.started_at <= e.at AND h.trace_id IS NOT NULL
                    ORDER BY h.started_at DESC LIMIT 1) AS "traceId"
       FROM (
       SELECT l.recorded_at AS at, 'ledger' AS kind, r.id::text AS "runId", r.batch, r.run_key AS "runKey", l.unit,
              CASE WHEN l.skipped THEN 'skipped' ELSE 'succeeded' END AS what, NULL::int AS attempts, NULL::boolean AS resolved,
              NULL::jsonb AS target
         FROM ${t.runs} r JOIN ${t.ledger} l ON l.run_id = r.id AND l.target_key = $1
        WHERE ($2::text IS NULL OR r.batch = $2)
       UNION ALL
       SELECT f.failed_at, 'failure', r.id::text, r.batch, r.run_key, f.unit, f.error_type || ': ' || f.error, f.attempts,
              EXISTS (SELECT 1 FROM ${t.ledger} l WHERE l.run_id = f.run_id AND l.target_key = f.target_key AND l.unit = f.unit),
              f.target
         FROM ${t.runs} r JOIN ${t.failures} f ON f.run_id = r.id AND f.target_key = $1
        WHERE ($2::text IS NULL OR r.batch = $2)
       UNION ALL
       -- The retries of runs where it failed: each start of a retry trigger, whoever started it.
       SELECT h.started_at, 'retry', r.id::text, r.batch, r.run_key, '', 'retry ' || h.state || ' (' || h.workflow_id || ')',
              NULL, NULL, NULL
         FROM ${t.runs} r JOIN ${t.failures} f ON f.run_id = r.id AND f.target_key = $1
         JOIN ${t.runHistory} h ON h.run_id = r.id AND h.kind = 'retry'
        WHERE ($2::text IS NULL OR r.batch = $2)) e
      ORDER BY at DESC LIMIT $3`,
    [targetKey, batch ?? null, limit],
  );
  return rows;
}

/** The last finished run's total per batch: a running run's expected size. */
export async function expectedTotals(db: Db, batches: string[], schema?: string): Promise<Map<string, number>> {
  if (batches.length === 0) return new Map();
  const { rows } = await db.query<{ batch: string; total: number }>(
    `SELECT DISTINCT ON (r.batch) r.batch, (h.counts->>'total')::int AS total
       FROM ${runRecordSource(tjuTables(schema))}
      WHERE r.batch = ANY($1) AND h.state = 'completed' AND h.kind = 'run' AND h.counts ? 'total'
      ORDER BY r.batch, h.started_at DESC`,
    [batches],
  );
  return new Map(rows.map((row) => [row.batch, row.total]));
}

/**
 * What is true of a run key now, whichever start did it: targets with a ledger row and no open failure (done),
 * and targets with an open failure (failing). Read from the ledger's and failures' primary keys.
 */
export async function runKeyTruth(db: Db, id: string, schema?: string): Promise<{ done: number; failing: number }> {
  const t = tjuTables(schema);
  const open = (f: string) =>
    `NOT EXISTS (SELECT 1 FROM ${t.ledger} l WHERE l.run_id = ${f}.run_id AND l.target_key = ${f}.target_key AND l.unit = ${f}.unit)`;
  const { rows } = await db.query<{ done: number; failing: number }>(
    `SELECT (SELECT count(*) FROM (SELECT DISTINCT target_key FROM ${t.ledger} WHERE run_id = $1) d
              WHERE NOT EXISTS (SELECT 1 FROM ${t.failures} f WHERE f.run_id = $1 AND f.target_key = d.target_key AND ${open('f')}))::int AS done,
            (SELECT count(*) FROM ${t.failures} f WHERE f.run_id = $1 AND ${open('f')})::int AS failing`,
    [id],
  );
  return rows[0];
}
