import { randomUUID } from 'node:crypto';
import { tracingOn } from '../telemetry/tracing';
import { tracedDb } from '../telemetry/unitSpan';
import type { Client, Pool, PoolClient, QueryResult } from 'pg';
import type { Slots } from '../util/slots';
import type { RunnableUnit, UnitContext, UnitOutcome } from './types';
import { UnitStop } from './unitStop';
import { cachedRunId, claimStatement, isClaimed, knownRunId, skippedStatement, type Claim, type TargetRef } from './ledger';
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

export interface UnitResult {
  outcome: UnitOutcome;
}

/** A session's run: a caller that runs many units (a bulk lane) stops each through a `UnitStop` of its own. */
export interface SessionRunOptions extends RunUnitOptions {
  stop?: UnitStop;
}

/** The ledger claim a session opens next, beside the unit it is committing: another target's or step's. */
export type NextClaim = Omit<Claim, 'runId'> & Pick<TargetRef, 'batch' | 'runKey'>;

/**
 * The key of a unit's effect on one target, for an external API: the unit's declared key, else one that is
 * the same for every attempt, crash and run of the batch (never the run key: a target that a later run selects
 * again must not be acted on twice).
 */
export function unitIdempotencyKey<I>(unit: Pick<RunnableUnit<I>, 'name' | 'idempotencyKey'>, input: I, key?: TargetRef): string {
  if (unit.idempotencyKey) return unit.idempotencyKey(input);
  return key ? `${key.batch}/${key.targetKey}/${unit.name}` : randomUUID();
}

/**
 * The connection units run on, one transaction after another. It holds a connection (and, given `slots`, one
 * of the worker's unit slots) only while a transaction is open on it, so nothing waits on a lane that is
 * backing off or recording a failure, and gives them up when another unit waits for a slot.
 *
 * Each transaction with an idempotency key claims its ledger row in the same round trip as BEGIN: a key
 * already claimed means the work is done, and the unit does not run. A lane that knows what it runs next
 * passes `next`: the unit's COMMIT then travels with the next unit's BEGIN and claim in one round trip, so a
 * unit of three statements costs four round trips, not five. Both are simple-protocol queries, and the next
 * claim's row is only locked, never committed, until its own unit commits it.
 */
export class UnitSession {
  private client?: PoolClient;
  private slot?: () => void;
  /** The open transaction's ledger claim (`claimed` false: the row was there already) when `next` opened it. */
  private open?: { claim: Claim; claimed: boolean };

  constructor(
    private readonly pool: Pool,
    private readonly schema?: string,
    private readonly slots?: Slots,
  ) {}

  /** Runs `unit` in one transaction: everything it wrote commits together or not at all. */
  async run<I>(unit: RunnableUnit<I>, input: I, options: SessionRunOptions = {}, next?: () => NextClaim | undefined): Promise<UnitResult> {
    const stop = options.stop ?? new UnitStop(options.signal);
    stop.throwIfAborted();
    const key = options.idempotencyKey;
    const claim = key && {
      runId: knownRunId(this.pool, key, this.schema) ?? (await cachedRunId(this.pool, key, this.schema)),
      targetKey: key.targetKey,
      unit: unit.name,
    };
    // A lane holding its connection and slot (most of a bulk chunk's units) goes on without a wait.
    const client = this.client && this.holdsSlot ? this.client : await this.connect(stop);
    let broken: Error | undefined;
    // Closing the connection is the one sure way to stop a transaction mid-statement: the server rolls it back.
    const stopListening = stop.onAbort(() => {
      broken = stop.reason instanceof Error ? stop.reason : new Error('the unit was stopped');
      void (client as unknown as Client).end().catch(() => undefined);
    });
    let committing: UnitOutcome | undefined;
    try {
      if (!(await this.begin(client, claim))) {
        await client.query('ROLLBACK');
        this.release();
        return { outcome: 'skipped' };
      }
      const tx = tracingOn() ? tracedDb(client) : client;
      const outcome = (await unit.run(tx, input, unitContext(unit, input, key, options, stop))) ?? 'succeeded';
      stop.throwIfAborted();
      committing = outcome;
      await this.commit(client, claim, outcome === 'skipped', !broken && !this.slots?.contended ? next?.() : undefined);
      return { outcome };
    } catch (err) {
      // Stopped: whatever the unit's own error says (a closed connection), this is why.
      if (stop.aborted) broken ??= stop.reason as Error;
      if (!broken) await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
      this.open = undefined;
      this.release(broken ?? (committing ? (err as Error) : undefined));
      // The COMMIT went out with the next claim and the round trip failed: it may have committed before the
      // failure. The ledger row says which (another connection reads it); without a key it counts as failed.
      if (committing && claim && !stop.aborted && (await isClaimed(this.pool, claim, this.schema))) return { outcome: committing };
      if (stop.aborted) throw stop.reason;
      throw err;
    } finally {
      stopListening();
    }
  }

  /** Gives back the connection and slot, rolling back a claim that `next` opened and nothing ran. */
  async close(): Promise<void> {
    let broken: Error | undefined;
    if (this.open) await this.client?.query('ROLLBACK').catch((err: Error) => (broken = err));
    this.open = undefined;
    this.release(broken);
  }

  /** Whether the session holds a unit slot now (or needs none). */
  get holdsSlot(): boolean {
    return !!this.slot || !this.slots;
  }

  /**
   * Takes the session's unit slot, if it has none: a lane does so before its unit's clock starts, so waiting
   * for a slot does not count against the unit's timeout.
   */
  async hold(signal?: AbortSignal): Promise<void> {
    if (!this.holdsSlot) this.slot = await this.slots!.acquire(signal);
  }

  private async connect(stop: UnitStop): Promise<PoolClient> {
    // Only a wait for a slot needs the unit's signal (a lane took its slot before the unit's clock started).
    if (!this.holdsSlot) await this.hold(stop.signal);
    this.client ??= await connectWithin(this.pool).catch((err: Error) => {
      this.release();
      throw err;
    });
    return this.client;
  }

  /** A client released with an error, or one that was stopped, has a dead or confused connection: dropped. */
  private release(broken?: Error) {
    this.client?.release(broken);
    this.client = undefined;
    this.slot?.();
    this.slot = undefined;
  }

  /** Opens the transaction and claims the key (true: the unit runs); reuses the claim `next` opened. */
  private async begin(client: PoolClient, claim?: Claim): Promise<boolean> {
    const open = this.open;
    this.open = undefined;
    if (open && claim && sameClaim(open.claim, claim)) return open.claimed;
    const statements = [open ? 'ROLLBACK' : '', 'BEGIN', claim ? claimStatement(client, claim, this.schema) : ''].filter(Boolean);
    const results = await client.query(statements.join('; '));
    return !claim || lastOf(results).rowCount === 1;
  }

  /** Commits (a unit that found its work done says so in its row), opening `next`'s claim in the same round trip. */
  private async commit(client: PoolClient, claim: Claim | undefined, skipped: boolean, next: NextClaim | undefined) {
    const runId = next && (knownRunId(this.pool, next, this.schema) ?? (await cachedRunId(this.pool, next, this.schema)));
    const nextClaim = next && { runId: runId!, targetKey: next.targetKey, unit: next.unit };
    const statements = [
      claim && skipped ? skippedStatement(client, claim, this.schema) : '',
      'COMMIT',
      nextClaim ? `BEGIN; ${claimStatement(client, nextClaim, this.schema)}` : '',
    ].filter(Boolean);
    const results = await client.query(statements.join('; '));
    if (!nextClaim) return this.release();
    this.open = { claim: nextClaim, claimed: lastOf(results).rowCount === 1 };
  }
}

/** What the unit sees as `ctx`; its signal and key are made only if it reads them. */
function unitContext<I>(unit: RunnableUnit<I>, input: I, key: TargetRef | undefined, options: RunUnitOptions, stop: UnitStop): UnitContext {
  let idempotencyKey: string | undefined;
  return {
    attempt: options.attempt ?? 1,
    get idempotencyKey() {
      return (idempotencyKey ??= unitIdempotencyKey(unit, input, key));
    },
    heartbeat: options.heartbeat ?? (() => undefined),
    get signal() {
      return stop.signal;
    },
  };
}

const sameClaim = (a: Claim, b: Claim) => a.runId === b.runId && a.targetKey === b.targetKey && a.unit === b.unit;

/** A simple query of several statements resolves with one result each; of one, with that result. */
const lastOf = (results: QueryResult | QueryResult[]): QueryResult => (Array.isArray(results) ? results[results.length - 1] : results);
