import type { Db } from '../db/types';
import { runIdOf } from '../db/ledger';
import { tjuTables } from '../db/schema';
import type { FailureEvent, RunCompleted } from './index';

export type HookName = 'onFailure' | 'onComplete';

/** One call of a hook, as the outbox keeps it. */
export interface HookEvent {
  id: string;
  batch: string;
  hook: HookName;
  event: FailureEvent | RunCompleted;
  attempts: number;
  maxAttempts: number;
}

export interface NewHookEvent {
  batch: string;
  runKey: string;
  workflowId: string;
  /** The same for every retry of the activity that raises it, so a retried write adds nothing. */
  dedupeKey: string;
  hook: HookName;
  event: FailureEvent | RunCompleted;
  maxAttempts: number;
}

/** Queues a hook call, in the caller's transaction when `db` is one (with the failure record it reports). */
export async function enqueueHookEvent(db: Db, event: NewHookEvent, schema?: string): Promise<void> {
  const runId = await runIdOf(db, event.batch, event.runKey, schema);
  await db.query(
    `INSERT INTO ${tjuTables(schema).hookEvents} (run_id, workflow_id, dedupe_key, batch, hook, event, max_attempts)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (dedupe_key) DO NOTHING`,
    [runId, event.workflowId, event.dedupeKey, event.batch, event.hook, JSON.stringify(event.event), event.maxAttempts],
  );
}

/**
 * Claims up to `limit` due events of `batches` for one worker: each claim counts an attempt and holds the
 * event for `leaseMs` (a worker that dies mid-call leaves it due again then). Committed at once: no
 * transaction stays open while a hook runs.
 */
export async function claimHookEvents(db: Db, batches: string[], limit: number, leaseMs: number, schema?: string): Promise<HookEvent[]> {
  const t = tjuTables(schema);
  const { rows } = await db.query<HookEvent>(
    `UPDATE ${t.hookEvents} SET attempts = attempts + 1, next_attempt_at = now() + $3 * interval '1 millisecond'
      WHERE id IN (SELECT id FROM ${t.hookEvents}
                    WHERE state = 'pending' AND next_attempt_at <= now() AND batch = ANY($1)
                    ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
      RETURNING id::text, batch, hook, event, attempts, max_attempts AS "maxAttempts"`,
    [batches, limit, leaseMs],
  );
  return rows;
}

export async function markDelivered(db: Db, id: string, schema?: string): Promise<void> {
  await db.query(`UPDATE ${tjuTables(schema).hookEvents} SET state = 'delivered', last_error = NULL, finished_at = now() WHERE id = $1`, [
    id,
  ]);
}

/** After a failed call: due again after `retryInMs`, or given up when the policy gives none. */
export async function markFailed(
  db: Db,
  event: HookEvent,
  error: string,
  retryInMs: number | undefined,
  schema?: string,
): Promise<'retrying' | 'gave-up'> {
  const gaveUp = retryInMs === undefined;
  await db.query(
    `UPDATE ${tjuTables(schema).hookEvents}
        SET state = $2, last_error = $3, next_attempt_at = now() + $4 * interval '1 millisecond',
            finished_at = CASE WHEN $2 = 'gave-up' THEN now() END
      WHERE id = $1`,
    [event.id, gaveUp ? 'gave-up' : 'pending', error, retryInMs ?? 0],
  );
  return gaveUp ? 'gave-up' : 'retrying';
}

/** A run's hook calls not yet delivered: retrying ones, and those given up. */
export interface HookProblem {
  hook: HookName;
  state: 'pending' | 'gave-up';
  attempts: number;
  maxAttempts: number;
  lastError: string | null;
  /** How many events of this hook are in this state (the latest one's error is shown). */
  events: number;
}

export async function hookProblems(db: Db, batch: string, runKey: string, schema?: string): Promise<HookProblem[]> {
  const t = tjuTables(schema);
  const { rows } = await db.query<HookProblem>(
    `SELECT DISTINCT ON (e.hook, e.state) e.hook, e.state, e.attempts, e.max_attempts AS "maxAttempts",
            e.last_error AS "lastError", count(*) OVER (PARTITION BY e.hook, e.state)::int AS events
       FROM ${t.hookEvents} e JOIN ${t.runs} r ON r.id = e.run_id
      WHERE r.batch = $1 AND r.run_key = $2 AND e.state <> 'delivered'
      ORDER BY e.hook, e.state, e.id DESC`,
    [batch, runKey],
  );
  return rows;
}
