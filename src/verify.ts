import type { Pool } from 'pg';
import { stepsOf, type Batch } from './batch';
import { tjuTables } from './db/schema';
import { checkTargetRows } from './targets';
import type { Target, Verification } from './contracts/types';

export interface VerifyOptions {
  schema?: string;
  /** Targets per page of the target query. */
  pageSize?: number;
  /** How many lost targets to name. */
  sampleSize?: number;
  /** Called after each page (an activity heartbeats here). */
  onPage?: (checked: number) => void;
}

/**
 * Proves a run complete, or names what it lost: every target the batch's query still selects for the run key
 * has a ledger row for each step that applies to it, or an open failure record. Keyset pages of the query,
 * each checked against the ledger and the failures by their primary keys, so 100,000 targets take seconds.
 * A target selected after the run (created since) is reported too: the run never did it.
 */
export async function verifyRun(
  pool: Pool,
  batch: Batch,
  run: { runKey: string; params: Record<string, unknown> },
  { schema, pageSize = 1000, sampleSize = 20, onPage }: VerifyOptions = {},
): Promise<Verification> {
  const t = tjuTables(schema);
  const { rows: found } = await pool.query<{ id: string }>(`SELECT id::text FROM ${t.runs} WHERE batch = $1 AND run_key = $2`, [
    batch.name,
    run.runKey,
  ]);
  const runId = found[0]?.id ?? null;
  const steps = stepsOf(batch);
  const result: Verification = { checked: 0, lost: 0, sample: [] };
  for (let after: string | null = null; ;) {
    const rows = await batch.targets(pool, { params: run.params, runKey: run.runKey, after, upTo: null, limit: pageSize });
    const page = checkTargetRows(batch.name, rows, after);
    if (page.length === 0) break;
    const { done, failed } = await recordsOf(
      pool,
      t,
      runId,
      page.map((target) => target.key),
    );
    for (const target of page) {
      if (failed.has(target.key)) continue;
      const missing = steps.filter((step) => applies(batch, step, target, run.params) && !done.has(`${target.key}\u0000${step.unit.name}`));
      if (missing.length === 0) continue;
      result.lost++;
      if (result.sample.length < sampleSize) result.sample.push({ key: target.key, missing: missing.map((step) => step.unit.name) });
    }
    result.checked += page.length;
    onPage?.(result.checked);
    if (page.length < pageSize) break;
    after = page[page.length - 1].key;
  }
  return result;
}

/** The page's ledger rows (key and unit) and its open failures, by the tables' primary keys. */
async function recordsOf(pool: Pool, t: ReturnType<typeof tjuTables>, runId: string | null, keys: string[]) {
  if (runId === null) return { done: new Set<string>(), failed: new Set<string>() };
  const [ledger, failures] = await Promise.all([
    pool.query<{ key: string; unit: string }>(
      `SELECT target_key AS key, unit FROM ${t.ledger} WHERE run_id = $1 AND target_key = ANY($2::text[])`,
      [runId, keys],
    ),
    pool.query<{ key: string }>(
      `SELECT f.target_key AS key FROM ${t.failures} f
        WHERE f.run_id = $1 AND f.target_key = ANY($2::text[])
          AND NOT EXISTS (SELECT 1 FROM ${t.ledger} l WHERE l.run_id = f.run_id AND l.target_key = f.target_key AND l.unit = f.unit)`,
      [runId, keys],
    ),
  ]);
  return { done: new Set(ledger.rows.map((r) => `${r.key}\u0000${r.unit}`)), failed: new Set(failures.rows.map((r) => r.key)) };
}

/** Whether a chain step applies to the target; a `when` that throws counts as applying (the stricter answer). */
function applies(batch: Batch, step: ReturnType<typeof stepsOf>[number], target: Target, params: Record<string, unknown>): boolean {
  if (!step.when) return true;
  try {
    return step.when(batch.job.input(target, params));
  } catch {
    return true;
  }
}
