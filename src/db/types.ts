import type { PoolClient } from 'pg';

// The types a Unit and a target query meet: the database layer's, which the batch DSL (src/unit.ts,
// src/batch.ts) re-exports.

/** What a Unit or a target query may run SQL on: a pooled client inside a transaction. */
export type Db = Pick<PoolClient, 'query'>;

/** A Unit reports `skipped` when its guard finds the work already done; anything else counts as done. */
export type UnitOutcome = 'succeeded' | 'skipped';

export interface UnitContext {
  /** 1 on the first try; Temporal's attempt number when run by a job. */
  attempt: number;
  /**
   * Names the unit's effect, for an external API's `Idempotency-Key` header: a call repeated after a crash, a
   * retry or in a later run is deduplicated there. The unit's own `idempotencyKey(input)` when it declares one;
   * otherwise, when run by a job, `<batch>/<targetKey>/<unit>` — the same in every run of the batch, so a
   * target that a later run selects again (its step failed after the call) is not acted on twice. From app
   * code without a declared key: a fresh UUID per call.
   */
  idempotencyKey: string;
  /** Tells Temporal a slow regular-activity unit is alive (see `heartbeatTimeout`); a no-op elsewhere. */
  heartbeat(details?: unknown): void;
  /**
   * Aborted when the unit must stop — its timeout passed, its job was cancelled, its worker is shutting down.
   * tju closes the unit's connection then (its transaction rolls back); pass it to calls that can be stopped,
   * e.g. `fetch(url, { signal: ctx.signal })`.
   */
  signal: AbortSignal;
}

/** What the unit runner needs of a unit: its name, its key, its logic. */
export interface RunnableUnit<I> {
  name: string;
  idempotencyKey?(input: I): string;
  run(tx: Db, input: I, ctx: UnitContext): Promise<UnitOutcome | void>;
}
