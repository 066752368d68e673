// A fair run's queue in PostgreSQL (migration 0009): its targets staged once with their fairness keys, then
// taken round-robin by key, each key held to its bound in flight. See workflows/run/fairPages.ts.
import type { Db } from './types';
import { tjuTables } from './schema';
import type { FairGroup, Target } from '../contracts/types';

/** Adds staged targets after `seq` (a retried staging adds each key once). */
export async function stageFairTargets(
  db: Db,
  queue: { runId: string; trigger: string },
  rows: Array<{ fairnessKey: string; target: Target }>,
  seq: number,
  schema?: string,
): Promise<void> {
  if (!rows.length) return;
  await db.query(
    `INSERT INTO ${tjuTables(schema).fairQueue} (run_id, trigger, seq, fairness_key, key, target)
     SELECT $1, $2, $3 + n, k, t->>'key', t FROM unnest($4::text[], $5::json[]) WITH ORDINALITY AS r (k, t, n)
     ON CONFLICT (trigger, key) DO NOTHING`,
    [queue.runId, queue.trigger, seq, rows.map((r) => r.fairnessKey), rows.map((r) => JSON.stringify(r.target))],
  );
}

export interface FairPageRequest {
  trigger: string;
  /** The page's number in this trigger's chain: asked again, it returns the same targets. */
  page: number;
  limit: number;
  maxInFlightPerKey: number;
  /** Targets in flight per fairness key (keys with none left out). */
  inFlight: Record<string, number>;
}

/**
 * The next page: up to `limit` waiting targets, the first of each key with room before the second of any, in
 * the query's order within a key, grouped by key. Each key is found by an index skip scan, so a page costs the
 * number of keys waiting, not the number of targets.
 */
export async function takeFairPage(db: Db, request: FairPageRequest, schema?: string): Promise<{ groups: FairGroup[]; waiting: boolean }> {
  const t = tjuTables(schema);
  const { trigger, page, limit, maxInFlightPerKey, inFlight } = request;
  let { rows } = await db.query<FairRow>(`SELECT fairness_key, target, seq FROM ${t.fairQueue} WHERE trigger = $1 AND page = $2`, [
    trigger,
    page,
  ]);
  if (!rows.length) {
    ({ rows } = await db.query<FairRow>(
      `WITH RECURSIVE keys AS (
         (SELECT fairness_key FROM ${t.fairQueue} WHERE trigger = $1 AND page IS NULL ORDER BY fairness_key LIMIT 1)
         UNION ALL
         SELECT (SELECT q.fairness_key FROM ${t.fairQueue} q
                  WHERE q.trigger = $1 AND q.page IS NULL AND q.fairness_key > keys.fairness_key ORDER BY q.fairness_key LIMIT 1)
           FROM keys WHERE keys.fairness_key IS NOT NULL),
       picked AS (
         SELECT w.seq, row_number() OVER (PARTITION BY keys.fairness_key ORDER BY w.seq) AS turn, keys.fairness_key
           FROM keys
           CROSS JOIN LATERAL (
             SELECT seq FROM ${t.fairQueue} q
              WHERE q.trigger = $1 AND q.page IS NULL AND q.fairness_key = keys.fairness_key
              ORDER BY q.seq
              LIMIT greatest(0, $3 - coalesce(($4::jsonb ->> keys.fairness_key)::int, 0))) w
          WHERE keys.fairness_key IS NOT NULL
          ORDER BY turn, keys.fairness_key
          LIMIT $5)
       UPDATE ${t.fairQueue} q SET page = $2 FROM picked
        WHERE q.trigger = $1 AND q.seq = picked.seq
       RETURNING q.fairness_key, q.target, q.seq`,
      [trigger, page, maxInFlightPerKey, JSON.stringify(inFlight), limit],
    ));
  }
  const { rows: left } = await db.query<{ waiting: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM ${t.fairQueue} WHERE trigger = $1 AND page IS NULL) AS waiting`,
    [trigger],
  );
  return { groups: groupByKey(rows), waiting: left[0].waiting };
}

interface FairRow {
  fairness_key: string;
  target: Target;
  seq: string;
}

/** A page's targets by key, keys in byte order and each key's targets in the query's: the same page every time. */
function groupByKey(rows: FairRow[]): FairGroup[] {
  const sorted = [...rows].sort((a, b) =>
    a.fairness_key === b.fairness_key ? Number(a.seq) - Number(b.seq) : a.fairness_key < b.fairness_key ? -1 : 1,
  );
  const groups = new Map<string, Target[]>();
  for (const row of sorted) {
    const targets = groups.get(row.fairness_key);
    if (targets) targets.push(row.target);
    else groups.set(row.fairness_key, [row.target]);
  }
  return [...groups].map(([fairnessKey, targets]) => ({ fairnessKey, targets }));
}

/** A finished trigger's queue: every target was taken. */
export async function dropFairQueue(db: Db, trigger: string, schema?: string): Promise<void> {
  await db.query(`DELETE FROM ${tjuTables(schema).fairQueue} WHERE trigger = $1`, [trigger]);
}
