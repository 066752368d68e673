import type { Pool } from 'pg';
import type { RunnableUnit } from './types';
import { UnitSession, type RunUnitOptions, type UnitResult } from './session';

export type { RunUnitOptions, UnitResult };

/**
 * Runs a unit in one transaction: everything it wrote commits together or not at all. With an idempotency
 * key, the transaction first claims the key's ledger row (in the same round trip as BEGIN): a key already
 * claimed means the work is done, and the unit does not run.
 */
export function runUnit<I>(pool: Pool, unit: RunnableUnit<I>, input: I, options: RunUnitOptions = {}): Promise<UnitResult> {
  return new UnitSession(pool, options.schema).run(unit, input, options);
}
