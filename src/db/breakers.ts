// A unit's circuit breaker in PostgreSQL, so every worker sees one state: each statement moves it one step and
// says whether it did, so two workers never both open it, or both take the probe.
import type { Db } from './types';
import { tjuTables } from './schema';

export interface BreakerRow {
  unit: string;
  state: 'closed' | 'open' | 'half-open';
  failures: number;
  openedAt: Date | null;
  openedAfter: number | null;
  openedWithinS: number | null;
  probeUntil: Date | null;
  /** Milliseconds until an open breaker lets a probe through (0: now); null unless open. */
  coolOffLeftMs?: number | null;
}

const COLUMNS = `unit, state, failures, opened_at AS "openedAt", opened_after AS "openedAfter",
  opened_within_s AS "openedWithinS", probe_until AS "probeUntil"`;

/** The unit's breaker now, with the cool-off left by the database's clock (every worker's the same). */
export async function readBreaker(db: Db, unit: string, coolOffMs: number, schema?: string): Promise<BreakerRow | undefined> {
  const { rows } = await db.query<BreakerRow>(
    `SELECT ${COLUMNS},
            CASE WHEN state = 'open' THEN greatest(0, extract(epoch FROM opened_at + $2 * interval '1 millisecond' - now()) * 1000)::int END
              AS "coolOffLeftMs"
       FROM ${tjuTables(schema).breakers} WHERE unit = $1`,
    [unit, coolOffMs],
  );
  return rows[0];
}

/** The probe, for the worker that gets it: an open breaker past its cool-off, or a probe that outlived `probeMs`. */
export async function takeProbe(db: Db, unit: string, { coolOffMs, probeMs }: { coolOffMs: number; probeMs: number }, schema?: string) {
  const t = tjuTables(schema);
  const { rowCount } = await db.query(
    `WITH taken AS (
       UPDATE ${t.breakers} SET state = 'half-open', probe_until = now() + $3 * interval '1 millisecond', changed_at = now()
        WHERE unit = $1 AND ((state = 'open' AND opened_at + $2 * interval '1 millisecond' <= now()) OR (state = 'half-open' AND probe_until < now()))
        RETURNING unit)
     INSERT INTO ${t.breakerEvents} (unit, event, detail) SELECT unit, 'probing', 'cool-off over: one target goes through' FROM taken`,
    [unit, coolOffMs, probeMs],
  );
  return rowCount === 1;
}

/**
 * Counts a retryable failure in the unit's window (a new window when the last began more than `withinMs` ago),
 * and opens the breaker when the window holds `threshold`. True when this failure opened it.
 */
export async function countFailure(
  db: Db,
  unit: string,
  { threshold, withinMs }: { threshold: number; withinMs: number },
  schema?: string,
) {
  const t = tjuTables(schema);
  // One upsert, so the count and the opening are one change of one row.
  const fresh = `b.window_start > now() - $3 * interval '1 millisecond'`;
  const n = `(CASE WHEN ${fresh} THEN b.failures + 1 ELSE 1 END)`;
  const start = `(CASE WHEN ${fresh} THEN b.window_start ELSE now() END)`;
  const opens = `${n} >= $2`;
  const { rows } = await db.query<{ opened: boolean }>(
    `WITH counted AS (
       INSERT INTO ${t.breakers} AS b (unit, failures, window_start, state, opened_at, opened_after, opened_within_s)
       VALUES ($1, 1, now(), CASE WHEN 1 >= $2 THEN 'open' ELSE 'closed' END, CASE WHEN 1 >= $2 THEN now() END,
               CASE WHEN 1 >= $2 THEN 1 END, CASE WHEN 1 >= $2 THEN 1 END)
       ON CONFLICT (unit) DO UPDATE SET
         failures = ${n},
         window_start = ${start},
         state = CASE WHEN ${opens} THEN 'open' ELSE 'closed' END,
         opened_at = CASE WHEN ${opens} THEN now() END,
         opened_after = CASE WHEN ${opens} THEN ${n} END,
         opened_within_s = CASE WHEN ${opens} THEN greatest(1, ceil(extract(epoch FROM now() - ${start})))::int END,
         changed_at = now()
        WHERE b.state = 'closed'
       RETURNING unit, state, opened_after, opened_within_s),
     noted AS (
       INSERT INTO ${t.breakerEvents} (unit, event, detail)
       SELECT unit, 'opened', opened_after || ' failures in ' || opened_within_s || ' s' FROM counted WHERE state = 'open' RETURNING 1)
     SELECT EXISTS (SELECT 1 FROM noted) AS opened`,
    [unit, threshold, withinMs],
  );
  return rows[0]?.opened ?? false;
}

/** A success closes the window: only failures in a row, with no success between them, open the breaker. */
export async function forgetFailures(db: Db, unit: string, schema?: string): Promise<void> {
  await db.query(
    `UPDATE ${tjuTables(schema).breakers} SET failures = 0, window_start = NULL, changed_at = now() WHERE unit = $1 AND state = 'closed' AND failures > 0`,
    [unit],
  );
}

/** The probe's outcome: closed (its failures forgotten) or open again for another cool-off. */
export async function settleProbe(db: Db, unit: string, succeeded: boolean, schema?: string): Promise<void> {
  const t = tjuTables(schema);
  const [set, event, detail] = succeeded
    ? [`state = 'closed', failures = 0, window_start = NULL, opened_at = NULL, probe_until = NULL`, 'closed', 'the probe succeeded']
    : [`state = 'open', opened_at = now(), probe_until = NULL`, 'reopened', 'the probe failed'];
  await db.query(
    `WITH settled AS (UPDATE ${t.breakers} SET ${set}, changed_at = now() WHERE unit = $1 AND state = 'half-open' RETURNING unit)
     INSERT INTO ${t.breakerEvents} (unit, event, detail) SELECT unit, $2, $3 FROM settled`,
    [unit, event, detail],
  );
}

/** The breakers of these units that are not closed, for status pages. */
export async function openBreakers(db: Db, units: string[], schema?: string): Promise<BreakerRow[]> {
  const { rows } = await db.query<BreakerRow>(
    `SELECT ${COLUMNS} FROM ${tjuTables(schema).breakers} WHERE unit = ANY($1) AND state <> 'closed' ORDER BY unit`,
    [units],
  );
  return rows;
}

/** How a breaker that is not closed reads: `breaker open: shop.request-shipping, 12 failures in 60 s`. */
export const describeBreaker = (b: BreakerRow): string =>
  `breaker ${b.state}: ${b.unit}, ${b.openedAfter ?? '?'} failures in ${b.openedWithinS ?? '?'} s` +
  (b.state === 'half-open' ? ' (one target is probing)' : '');
