import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { RunnableUnit, UnitOutcome } from './types';
import { beginClaimed, cachedRunId, commitClaimed, type TargetRef } from './ledger';

export interface RunUnitOptions {
  /** When given, the run is recorded in the ledger in the same transaction: a second run changes nothing. */
  idempotencyKey?: TargetRef;
  attempt?: number;
  /** The schema of tju's tables (default `tju`). */
  schema?: string;
  /** Called by `ctx.heartbeat()` (a job's regular activity passes Temporal's). */
  heartbeat?: (details?: unknown) => void;
}

/**
 * The key of a unit's effect on one target, for an external API: the unit's declared key, else one that is
 * the same for every attempt, crash and run of the batch (never the run key: a target that a later run selects
 * again must not be acted on twice).
 */
export function unitIdempotencyKey<I>(unit: Pick<RunnableUnit<I>, 'name' | 'idempotencyKey'>, input: I, key?: TargetRef): string {
  if (unit.idempotencyKey) return unit.idempotencyKey(input);
  return key ? `${key.batch}/${key.targetKey}/${unit.name}` : randomUUID();
}

export interface UnitResult {
  outcome: UnitOutcome;
}

/**
 * Runs a unit in one transaction: everything it wrote commits together or not at all. With an idempotency
 * key, the transaction first claims the key's ledger row (in the same round trip as BEGIN): a key already
 * claimed means the work is done, and the unit does not run.
 */
export async function runUnit<I>(pool: Pool, unit: RunnableUnit<I>, input: I, options: RunUnitOptions = {}): Promise<UnitResult> {
  const key = options.idempotencyKey;
  const runId = key && (await cachedRunId(pool, key, options.schema));
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    try {
      if (!runId) {
        await client.query('BEGIN');
      } else if (!(await beginClaimed(client, runId, key.targetKey, unit.name, options.schema))) {
        await client.query('ROLLBACK');
        return { outcome: 'skipped' };
      }
      const outcome =
        (await unit.run(client, input, {
          attempt: options.attempt ?? 1,
          idempotencyKey: unitIdempotencyKey(unit, input, key),
          heartbeat: options.heartbeat ?? (() => undefined),
        })) ?? 'succeeded';
      if (runId) await commitClaimed(client, runId, key.targetKey, unit.name, outcome === 'skipped', options.schema);
      else await client.query('COMMIT');
      return { outcome };
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
      throw err;
    }
  } finally {
    // A client whose rollback failed has a dead or confused connection: drop it rather than pool it.
    client.release(broken);
  }
}
