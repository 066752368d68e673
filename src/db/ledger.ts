import type { Pool, PoolClient } from 'pg';
import type { Db } from '../db/types';
import { Params } from './params';
import { tjuTables } from './schema';
import type { FailureFilter, FailureRecord, Target } from '../contracts/types';

export type { FailureRecord };

/** Identifies one target of one run: the idempotency key of its job. */
export interface TargetRef {
  batch: string;
  runKey: string;
  targetKey: string;
}

/** The number of a run's row in `runs`, created on first use. */
export async function runIdOf(db: Db, batch: string, runKey: string, schema?: string): Promise<string> {
  const t = tjuTables(schema);
  const inserted = await db.query<{ id: string }>(
    `INSERT INTO ${t.runs} (batch, run_key) VALUES ($1, $2) ON CONFLICT (batch, run_key) DO NOTHING RETURNING id::text`,
    [batch, runKey],
  );
  if (inserted.rows.length) return inserted.rows[0].id;
  const { rows } = await db.query<{ id: string }>(`SELECT id::text FROM ${t.runs} WHERE batch = $1 AND run_key = $2`, [batch, runKey]);
  return rows[0].id;
}

// A run's number never changes once made (nothing deletes a run's row while its jobs may run), so a worker
// looks it up once per run and pool, not once per unit; once known, it is read without a promise.
const runIds = new WeakMap<Pool, { pending: Map<string, Promise<string>>; known: Map<string, string> }>();

// NUL cannot occur in PostgreSQL text, so no batch or run key can make two of these keys collide.
const runCacheKey = (schema: string | undefined, batch: string, runKey: string) => `${schema ?? ''}\0${batch}\0${runKey}`;

export function cachedRunId(pool: Pool, { batch, runKey }: { batch: string; runKey: string }, schema?: string): Promise<string> {
  let cache = runIds.get(pool);
  if (!cache) runIds.set(pool, (cache = { pending: new Map(), known: new Map() }));
  const { pending, known } = cache;
  const key = runCacheKey(schema, batch, runKey);
  let id = pending.get(key);
  if (!id) {
    id = runIdOf(pool, batch, runKey, schema);
    pending.set(key, id);
    id.then(
      (value) => known.set(key, value),
      () => pending.delete(key), // a lost connection: look it up again next time
    );
  }
  return id;
}

/** The run's number if this worker has looked it up already (`cachedRunId`), without waiting. */
export function knownRunId(pool: Pool, { batch, runKey }: { batch: string; runKey: string }, schema?: string): string | undefined {
  return runIds.get(pool)?.known.get(runCacheKey(schema, batch, runKey));
}

/** One unit's ledger row for one target of a run: what a unit's transaction claims first. */
export interface Claim {
  runId: string;
  targetKey: string;
  unit: string;
}

/**
 * The claim as one simple-protocol statement (it travels with BEGIN, and with the previous unit's COMMIT, in
 * one round trip): a row inserted means the unit runs; none means another execution holds or committed it. A
 * concurrent duplicate waits here until the first commits (then none) or rolls back (then inserted).
 */
export function claimStatement(client: PoolClient, { runId, targetKey, unit }: Claim, schema?: string): string {
  if (!/^\d+$/.test(runId)) throw new Error(`run id ${runId} is not a number`);
  return `INSERT INTO ${tjuTables(schema).ledger} (run_id, target_key, unit)
    VALUES (${runId}, ${client.escapeLiteral(targetKey)}, ${client.escapeLiteral(unit)}) ON CONFLICT DO NOTHING`;
}

/** Marks a claimed row as a unit that found its work already done, before its COMMIT. */
export function skippedStatement(client: PoolClient, { runId, targetKey, unit }: Claim, schema?: string): string {
  return `UPDATE ${tjuTables(schema).ledger} SET skipped = true
    WHERE run_id = ${runId} AND target_key = ${client.escapeLiteral(targetKey)} AND unit = ${client.escapeLiteral(unit)}`;
}

/** Whether a claim is committed: asked when a COMMIT's round trip failed and it may have gone through. */
export async function isClaimed(db: Db, { runId, targetKey, unit }: Claim, schema?: string): Promise<boolean> {
  const { rowCount } = await db.query(`SELECT 1 FROM ${tjuTables(schema).ledger} WHERE run_id = $1 AND target_key = $2 AND unit = $3`, [
    runId,
    targetKey,
    unit,
  ]);
  return rowCount === 1;
}

/**
 * Written when a job gives up on a target; the latest failure of a target replaces the earlier one. It stays
 * open until the unit it names has a ledger row for the target: a later success resolves it.
 */
export async function recordFailure(db: Db, failure: FailureRecord, schema?: string): Promise<void> {
  const runId = await runIdOf(db, failure.batch, failure.runKey, schema);
  await db.query(
    `INSERT INTO ${tjuTables(schema).failures} (run_id, target_key, unit, error, error_type, attempts, non_retryable, target)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (run_id, target_key) DO UPDATE SET
       unit = excluded.unit, error = excluded.error, error_type = excluded.error_type,
       attempts = excluded.attempts, non_retryable = excluded.non_retryable, target = excluded.target,
       failed_at = now()`,
    [
      runId,
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

/** The run a statement is about. */
export interface RunRef {
  batch: string;
  runKey: string;
}

/** Which open failures of a run a statement takes, and in which schema. */
export interface FailureQuery {
  filter?: FailureFilter;
  schema?: string;
}

/**
 * A run's failure records still open (their unit has not since succeeded for the target) that a filter takes,
 * as `f`: one group exactly (its masked error, and its step when named), errors containing a text in any case,
 * one target.
 */
function openFailures(params: Params, run: RunRef, { filter = {}, schema }: FailureQuery = {}): string {
  const t = tjuTables(schema);
  const where = [
    `r.batch = ${params.add(run.batch)}`,
    `r.run_key = ${params.add(run.runKey)}`,
    `NOT EXISTS (SELECT 1 FROM ${t.ledger} l WHERE l.run_id = f.run_id AND l.target_key = f.target_key AND l.unit = f.unit)`,
  ];
  if (filter.group) {
    where.push(`f.error_group = ${params.add(filter.group.error)}`);
    if (filter.group.unit !== undefined) where.push(`f.unit = ${params.add(filter.group.unit)}`);
  }
  if (filter.error !== undefined) where.push(`strpos(lower(f.error_type || ': ' || f.error), lower(${params.add(filter.error)})) > 0`);
  if (filter.target !== undefined) where.push(`f.target_key = ${params.add(filter.target)}`);
  return `${t.failures} f JOIN ${t.runs} r ON r.id = f.run_id WHERE ${where.join(' AND ')}`;
}

/** One keyset page of a run's open failures (keys after `after`, up to `upTo`), as their jobs carried them: what a retry dispatches. */
export async function failedTargets(
  db: Db,
  page: RunRef & { after: string | null; limit: number; upTo?: string | null; filter?: FailureFilter },
  schema?: string,
): Promise<Target[]> {
  const params = new Params();
  const from = openFailures(params, page, { filter: page.filter, schema });
  const after = page.after === null ? '' : ` AND f.target_key > ${params.add(page.after)}`;
  const upTo = page.upTo == null ? '' : ` AND f.target_key <= ${params.add(page.upTo)}`;
  const { rows } = await db.query<{ target: Target }>(
    `SELECT f.target FROM ${from}${after}${upTo} ORDER BY f.target_key LIMIT ${params.add(page.limit)}`,
    params.values,
  );
  return rows.map((row) => row.target);
}

/** Which of `keys` have a ledger row for which units in a run: `skipped` says the unit found its work done. */
export async function ledgerStates(db: Db, runId: string, keys: string[], schema?: string): Promise<Map<string, Map<string, boolean>>> {
  const { rows } = await db.query<{ target_key: string; unit: string; skipped: boolean }>(
    `SELECT target_key, unit, skipped FROM ${tjuTables(schema).ledger} WHERE run_id = $1 AND target_key = ANY($2::text[])`,
    [runId, keys],
  );
  const states = new Map<string, Map<string, boolean>>();
  for (const row of rows) {
    if (!states.has(row.target_key)) states.set(row.target_key, new Map());
    states.get(row.target_key)!.set(row.unit, row.skipped);
  }
  return states;
}

/** A run's ledger rows and open failures: what `tju status` reports and `tju clear` would forget. */
export async function runRecords(db: Db, run: RunRef, schema?: string) {
  const t = tjuTables(schema);
  const params = new Params();
  const failures = openFailures(params, run, { schema });
  const { rows } = await db.query<{ ledger: number; failures: number }>(
    `SELECT (SELECT count(*) FROM ${t.ledger} l JOIN ${t.runs} r ON r.id = l.run_id WHERE r.batch = $1 AND r.run_key = $2)::int AS ledger,
            (SELECT count(*) FROM ${failures})::int AS failures`,
    params.values,
  );
  return rows[0];
}

/**
 * Forgets a run: its ledger rows and failure records. Its row in `runs` stays, so workers that know its
 * number keep writing under the same one.
 */
export async function clearRun(db: Db, run: RunRef, schema?: string) {
  const before = await runRecords(db, run, schema);
  const t = tjuTables(schema);
  await db.query(
    `WITH run AS (SELECT id FROM ${t.runs} WHERE batch = $1 AND run_key = $2),
          ledger AS (DELETE FROM ${t.ledger} WHERE run_id IN (SELECT id FROM run)),
          failures AS (DELETE FROM ${t.failures} WHERE run_id IN (SELECT id FROM run))
     SELECT 1`,
    [run.batch, run.runKey],
  );
  return before;
}

/** A failure record as `tju failures` shows it; `group` is its cause with what varies per target masked. */
export type StoredFailure = Omit<FailureRecord, 'batch' | 'runKey'> & { failedAt: Date; group: string };

/** The open failures of a run (those a filter takes), oldest first. */
export async function listFailures(db: Db, run: RunRef, query?: FailureQuery): Promise<StoredFailure[]> {
  const params = new Params();
  const { rows } = await db.query<StoredFailure>(
    `SELECT f.target_key AS "targetKey", f.unit, f.error, f.error_type AS "errorType", f.attempts,
            f.non_retryable AS "nonRetryable", f.failed_at AS "failedAt", f.target, f.error_group AS "group"
       FROM ${openFailures(params, run, query)} ORDER BY f.failed_at, f.target_key`,
    params.values,
  );
  return rows;
}

/** One keyset page of the open failures a filter takes, by target key (after `after`): every target of a group, a page at a time. */
export async function failurePage(
  db: Db,
  run: RunRef,
  { after, limit, ...query }: FailureQuery & { after: string | null; limit: number },
): Promise<StoredFailure[]> {
  const params = new Params();
  const from = openFailures(params, run, query);
  const keyset = after === null ? '' : ` AND f.target_key > ${params.add(after)}`;
  const { rows } = await db.query<StoredFailure>(
    `SELECT f.target_key AS "targetKey", f.unit, f.error, f.error_type AS "errorType", f.attempts,
            f.non_retryable AS "nonRetryable", f.failed_at AS "failedAt", f.target, f.error_group AS "group"
       FROM ${from}${keyset} ORDER BY f.target_key LIMIT ${params.add(limit)}`,
    params.values,
  );
  return rows;
}

/** How many open failures of a run a filter takes, counted where they are, by step and group. */
export async function countFailures(db: Db, run: RunRef, query?: FailureQuery): Promise<FailureCount> {
  const params = new Params();
  const { rows } = await db.query<{ unit: string; group: string; count: number }>(
    `SELECT f.unit, f.error_group AS "group", count(*)::int AS count FROM ${openFailures(params, run, query)}
      GROUP BY f.unit, f.error_group ORDER BY count(*) DESC, f.unit, f.error_group`,
    params.values,
  );
  return { total: rows.reduce((n, row) => n + row.count, 0), groups: rows };
}

/** Open failures counted: in all, and per step and group (largest first), so a person sees what a filter takes. */
export interface FailureCount {
  total: number;
  groups: Array<{ unit: string; group: string; count: number }>;
}

/**
 * Forgets the open failures a filter takes (the operator accepts them): their targets are selected again by
 * the next run of the key. The run's ledger is untouched. Resolves with how many were forgotten.
 */
export async function clearFailures(db: Db, run: RunRef, query?: FailureQuery): Promise<number> {
  const params = new Params();
  const { rowCount } = await db.query(
    `DELETE FROM ${tjuTables(query?.schema).failures} d USING (SELECT f.run_id, f.target_key FROM ${openFailures(params, run, query)}) f
      WHERE d.run_id = f.run_id AND d.target_key = f.target_key`,
    params.values,
  );
  return rowCount ?? 0;
}
