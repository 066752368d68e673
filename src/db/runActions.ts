import type { Db } from './types';
import { runIdOf } from './ledger';
import { tjuTables } from './schema';

/** What an operator did to a run, by whom, and when: written beside the run history. */
export interface RunAction {
  action: string;
  actor: string;
  detail: Record<string, unknown>;
  at: Date;
}

/** Records an operator's action on a run (after it was done, with what it did). */
export async function recordRunAction(
  db: Db,
  run: { batch: string; runKey: string },
  action: string,
  actor: string,
  detail: Record<string, unknown> = {},
  schema?: string,
): Promise<void> {
  const runId = await runIdOf(db, run.batch, run.runKey, schema);
  await db.query(`INSERT INTO ${tjuTables(schema).runActions} (run_id, action, actor, detail) VALUES ($1, $2, $3, $4)`, [
    runId,
    action,
    actor,
    JSON.stringify(detail),
  ]);
}

/** A run's recorded actions, newest first. */
export async function listRunActions(db: Db, runId: string, limit = 50, schema?: string): Promise<RunAction[]> {
  const { rows } = await db.query<RunAction>(
    `SELECT action, actor, detail, at FROM ${tjuTables(schema).runActions} WHERE run_id = $1 ORDER BY at DESC, id DESC LIMIT $2`,
    [runId, limit],
  );
  return rows;
}
