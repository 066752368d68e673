import type { Db } from './types';
import { tjuTables } from './schema';

/** What an operator did outside a run, or what the dashboard refused them. */
export type OperatorEventKind =
  'sign-in' | 'sign-in-failed' | 'sign-out' | 'refused' | 'schedule-pause' | 'schedule-unpause' | 'schedule-trigger' | 'schedule-backfill';

export interface OperatorEvent {
  kind: OperatorEventKind;
  actor: string;
  address?: string;
  batch?: string;
  detail?: Record<string, unknown>;
}

export async function recordOperatorEvent(db: Db, event: OperatorEvent, schema?: string): Promise<void> {
  await db.query(`INSERT INTO ${tjuTables(schema).operatorEvents} (kind, actor, address, batch, detail) VALUES ($1, $2, $3, $4, $5)`, [
    event.kind,
    event.actor,
    event.address ?? null,
    event.batch ?? null,
    JSON.stringify(event.detail ?? {}),
  ]);
}

/** How many events of a kind came from an address within the last `withinMs`: what limits sign-in attempts. */
export async function countRecentEvents(
  db: Db,
  kind: OperatorEventKind,
  address: string,
  withinMs: number,
  schema?: string,
): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${tjuTables(schema).operatorEvents}
      WHERE kind = $1 AND address = $2 AND at > now() - make_interval(secs => $3 / 1000.0)`,
    [kind, address, withinMs],
  );
  return rows[0].n;
}

/** A batch's schedule actions, newest first. */
export async function listScheduleEvents(db: Db, batch: string, limit = 20, schema?: string): Promise<Array<OperatorEvent & { at: Date }>> {
  const { rows } = await db.query<OperatorEvent & { at: Date }>(
    `SELECT kind, actor, address, batch, detail, at FROM ${tjuTables(schema).operatorEvents}
      WHERE batch = $1 AND kind LIKE 'schedule-%' ORDER BY at DESC, id DESC LIMIT $2`,
    [batch, limit],
  );
  return rows;
}
