import type { Pool } from 'pg';
import type { UnitDefinition, UnitOutcome } from '../definitions';
import { recordDone, type TargetRef } from './ledger';

export interface RunUnitOptions {
  /** When given, the run is recorded in the ledger in the same transaction: a second run changes nothing. */
  idempotencyKey?: TargetRef;
  attempt?: number;
  /** The schema of tju's tables (default `tju`). */
  schema?: string;
}

export interface UnitResult {
  outcome: UnitOutcome;
}

/** Runs a unit in one transaction: everything it wrote commits together or not at all. */
export async function runUnit<I>(
  pool: Pool,
  unit: UnitDefinition<I>,
  input: I,
  options: RunUnitOptions = {},
): Promise<UnitResult> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    try {
      const outcome = (await unit.run(client, input, { attempt: options.attempt ?? 1 })) ?? 'succeeded';
      if (options.idempotencyKey && !(await recordDone(client, options.idempotencyKey, unit.name, outcome, options.schema))) {
        await client.query('ROLLBACK');
        return { outcome: 'skipped' };
      }
      await client.query('COMMIT');
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
