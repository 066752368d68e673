import type { Duration, RetryPolicy } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type { Pool } from 'pg';
import { runUnit, type RunUnitOptions, type UnitResult } from './db/runUnit';
import type { Db, UnitContext, UnitOutcome } from './db/types';

export type { Db, UnitContext, UnitOutcome };

/** The Unit: the business logic for one target, in one short transaction that tju opens and commits. */
export interface UnitDefinition<I> {
  name: string;
  /** The unit's own retry policy, wherever it runs; a batch's `job.retry` overrides it field by field. */
  retry?: RetryPolicy;
  /** Time one attempt may take; a batch's `job.timeout` overrides it. Default 1 minute. */
  timeout?: Duration;
  /**
   * `local` (default): a local activity, run inside the job's workflow task — cheapest, for short database
   * work. `regular`: an activity task of its own — for slow calls to other services, long timeouts,
   * heartbeats, its own task queue or a rate limit (each implies it).
   */
  activity?: 'local' | 'regular';
  /** A task queue of its own for this unit's activities, e.g. to run them on workers near a service. */
  taskQueue?: string;
  /**
   * At most this many calls a second across all workers: Temporal's task-queue rate limit, on a queue of the
   * unit's own (`<job's queue>.<unit name>` unless `taskQueue` is set).
   */
  rateLimit?: number;
  /** For a slow regular unit that calls `ctx.heartbeat()`: how long Temporal waits between beats. */
  heartbeatTimeout?: Duration;
  /**
   * A circuit breaker across every worker (Laravel's ThrottlesExceptions): once the unit's retryable failures
   * reach `failures` within `within`, with no success between them, no attempt of it starts until `coolOff`
   * has passed; then one target
   * goes through, and its outcome closes the breaker or opens it again. A refused attempt waits and spends
   * nothing of the target's retries. In per-target and per-chunk jobs such a unit runs as an activity of its
   * own, so its waits are timers in the job's history; in a bulk chunk it waits inside the chunk.
   */
  breaker?: BreakerSettings;
  /**
   * The key of this unit's effect on another service, from its input: what `ctx.idempotencyKey` is. Declare it
   * when a target takes the effect again in a later run — a subscription charged every month:
   * `(input) => 'charge/' + input.subscriptionId + '/' + input.billingDate` — or to name the effect in the
   * other service's terms: `(order) => 'shipment/' + order.orderId`.
   */
  idempotencyKey?(input: I): string;
  /** Business logic for one target. Runs inside one transaction that tju opens and commits. */
  run(tx: Db, input: I, ctx: UnitContext): Promise<UnitOutcome | void>;
}

export interface BreakerSettings {
  /** Retryable failures that open the breaker... */
  failures: number;
  /** ...when they come within this long, e.g. `'1m'`. */
  within: Duration;
  /** How long it stays open before one target probes the service again, e.g. `'5m'`. */
  coolOff: Duration;
}

/** Whether a unit needs an activity task of its own wherever it runs (a bulk chunk cannot run it). */
export const needsOwnActivity = (unit: UnitDefinition<unknown>): boolean =>
  unit.activity === 'regular' || unit.taskQueue !== undefined || unit.rateLimit !== undefined;

/** Whether a job runs the unit as a regular activity (an activity task), not a local one. */
export const runsAsActivity = (unit: UnitDefinition<unknown>): boolean => needsOwnActivity(unit) || unit.breaker !== undefined;

export interface Unit<I> extends UnitDefinition<I> {
  /** Run this unit in its own transaction, from app code, a test or a job. */
  execute(pool: Pool, input: I, options?: RunUnitOptions): Promise<UnitResult>;
}

export function defineUnit<I>(definition: UnitDefinition<I>): Unit<I> {
  if (definition.breaker) checkBreaker(definition.name, definition.breaker);
  const unit: Unit<I> = { ...definition, execute: (pool, input, options) => runUnit(pool, unit, input, options) };
  return unit;
}

function checkBreaker(unit: string, { failures, within, coolOff }: BreakerSettings): void {
  if (!(Number.isInteger(failures) && failures >= 1))
    throw new Error(`${unit}: breaker.failures must be a whole number of at least 1 (got ${failures})`);
  for (const [name, value] of Object.entries({ within, coolOff })) {
    if (!(durationMs(value) > 0)) throw new Error(`${unit}: breaker.${name} must be a duration like '1m' (got ${JSON.stringify(value)})`);
  }
}

const durationMs = (value: Duration): number => {
  try {
    return msToNumber(value);
  } catch {
    return NaN;
  }
};
