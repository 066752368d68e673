import type { Db } from './types';
import { tjuTables } from './schema';
import { slices } from '../contracts/slices';
import type { JobTargets, StagedChunk, Target } from '../contracts/types';

/**
 * Writes a page's targets as chunks of `size`, in key order, in one statement: the trigger's history then
 * carries each chunk's row number, count and first and last keys, never the targets. A fetch retried after this
 * leaves unused rows behind, which go with the run's ledger (src/db/prune.ts).
 */
export async function stageChunks(db: Db, runId: string, targets: Target[], size: number, schema?: string): Promise<StagedChunk[]> {
  const chunks = slices(targets, size);
  if (!chunks.length) return [];
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO ${tjuTables(schema).stagedChunks} (run_id, targets)
     SELECT $1, chunk FROM unnest($2::json[]) WITH ORDINALITY AS c (chunk, n) ORDER BY n
     RETURNING id::text`,
    [runId, chunks.map((chunk) => JSON.stringify(chunk))],
  );
  // An identity column hands out increasing numbers in insert order: sorted, they pair with the chunks.
  const ids = rows.map((row) => row.id).sort((a, b) => Number(a) - Number(b));
  return chunks.map((chunk, i) => ({ staged: ids[i], count: chunk.length, first: chunk[0].key, last: chunk[chunk.length - 1].key }));
}

/** Thrown when a staged chunk's row is gone: only pruning a finished run deletes it. */
export class StagedChunkGoneError extends Error {
  name = 'StagedChunkGone';
}

/** A job's targets: the rows it carries, or its staged chunk's, read back in the order they were staged. */
export async function targetsOf(db: Db, targets: JobTargets, schema?: string): Promise<Target[]> {
  if (Array.isArray(targets)) return targets;
  const { rows } = await db.query<{ targets: Target[] }>(`SELECT targets FROM ${tjuTables(schema).stagedChunks} WHERE id = $1`, [
    targets.staged,
  ]);
  if (!rows.length) throw new StagedChunkGoneError(`staged chunk ${targets.staged} is gone: was its run pruned while a job of it ran?`);
  return rows[0].targets;
}
