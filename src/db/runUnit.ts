import { randomUUID } from 'node:crypto';
import type { Client, Pool } from 'pg';
import type { RunnableUnit, UnitOutcome } from './types';
import { beginClaimed, cachedRunId, commitClaimed, type TargetRef } from './ledger';
import { connectWithin } from './pool';

export interface RunUnitOptions {
  /** When given, the run is recorded in the ledger in the same transaction: a second run changes nothing. */
  idempotencyKey?: TargetRef;
  attempt?: number;
  /** The schema of tju's tables (default `tju`). */
  schema?: string;
  /** Called by `ctx.heartbeat()` (a job's regular activity passes Temporal's). */
  heartbeat?: (details?: unknown) => void;
  /**
   * Stops the unit: its connection is closed at once, so PostgreSQL rolls its transaction back and nothing it
   * does after can commit; the unit sees it as `ctx.signal` too (to pass to `fetch`, say). A job aborts a unit
   * whose timeout passed or whose activity was cancelled.
   */
  signal?: AbortSignal;
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
  const { signal } = options;
  signal?.throwIfAborted();
  const key = options.idempotencyKey;
  const runId = key && (await cachedRunId(pool, key, options.schema));
  const client = await connectWithin(pool);
  let broken: Error | undefined;
  // Closing the connection is the one sure way to stop a transaction mid-statement: the server rolls it back.
  const abort = () => {
    broken = signal!.reason instanceof Error ? signal!.reason : new Error('the unit was stopped');
    void (client as unknown as Client).end().catch(() => undefined);
  };
  signal?.addEventListener('abort', abort, { once: true });
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
          signal: signal ?? new AbortController().signal,
        })) ?? 'succeeded';
      signal?.throwIfAborted();
      if (runId) await commitClaimed(client, runId, key.targetKey, unit.name, outcome === 'skipped', options.schema);
      else await client.query('COMMIT');
      return { outcome };
    } catch (err) {
      // Stopped: whatever the unit's own error says (a closed connection), this is why.
      if (signal?.aborted) throw signal.reason;
      await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
      throw err;
    }
  } finally {
    signal?.removeEventListener('abort', abort);
    // A client whose rollback failed, or that was stopped, has a dead or confused connection: drop it.
    client.release(broken);
  }
}
