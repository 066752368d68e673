import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { UnitDefinition, UnitOutcome } from '../definitions';
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

/** The idempotency key a unit sees for a target: stable across attempts, crashes and re-runs. */
export const unitIdempotencyKey = (key: TargetRef, unit: string): string => `${key.batch}/${key.runKey}/${key.targetKey}/${unit}`;

export interface UnitResult {
  outcome: UnitOutcome;
}

/**
 * Runs a unit in one transaction: everything it wrote commits together or not at all. With an idempotency
 * key, the transaction first claims the key's ledger row (in the same round trip as BEGIN): a key already
 * claimed means the work is done, and the unit does not run.
 */
export async function runUnit<I>(
  pool: Pool,
  unit: UnitDefinition<I>,
  input: I,
  options: RunUnitOptions = {},
): Promise<UnitResult> {
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
          idempotencyKey: key ? unitIdempotencyKey(key, unit.name) : randomUUID(),
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
