import type { CalendarSpec } from '@temporalio/client';
import type { Duration, RetryPolicy } from '@temporalio/common';
import type { Pool, PoolClient } from 'pg';
import { z } from 'zod';
import { runUnit, type RunUnitOptions, type UnitResult } from './db/runUnit';
import type { Granularity } from '../workflows/types';
import type { CompletionHook, FailureHook, HookRetry } from './hooks';
import { parseDuration } from './config';

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
}

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
   * The key of this unit's effect on another service, from its input: what `ctx.idempotencyKey` is. Declare it
   * when a target takes the effect again in a later run — a subscription charged every month:
   * `(input) => 'charge/' + input.subscriptionId + '/' + input.billingDate` — or to name the effect in the
   * other service's terms: `(order) => 'shipment/' + order.orderId`.
   */
  idempotencyKey?: (input: I) => string;
  /** Business logic for one target. Runs inside one transaction that tju opens and commits. */
  run(tx: Db, input: I, ctx: UnitContext): Promise<UnitOutcome | void>;
}

/** One step of a batch's chain: a unit, run for the targets whose input `when` accepts (all without it). */
export interface ChainStep<I> {
  unit: Unit<I>;
  when?: (input: I) => boolean;
}

export type Step<I> = Unit<I> | ChainStep<I>;

/** A batch's units in order: its chain, or its one unit as a chain of one. */
export function stepsOf<I>(batch: { unit?: Unit<I>; steps?: Step<I>[] }): ChainStep<I>[] {
  if (batch.steps) return batch.steps.map((step) => (step && 'execute' in step ? { unit: step } : step));
  return batch.unit ? [{ unit: batch.unit }] : [];
}

/** Whether a unit runs as a regular activity (an activity task), not a local one. */
export const runsAsActivity = (unit: UnitDefinition<unknown>): boolean =>
  unit.activity === 'regular' || unit.taskQueue !== undefined || unit.rateLimit !== undefined;

export interface Unit<I> extends UnitDefinition<I> {
  /** Run this unit in its own transaction, from app code, a test or a job. */
  execute(pool: Pool, input: I, options?: RunUnitOptions): Promise<UnitResult>;
}

export function defineUnit<I>(definition: UnitDefinition<I>): Unit<I> {
  const unit: Unit<I> = { ...definition, execute: (pool, input, options) => runUnit(pool, unit, input, options) };
  return unit;
}

/** A row returned by a target query. `key` identifies the target and is the keyset cursor. */
export interface TargetRow {
  key: string;
}

export interface TargetPage<P> {
  params: P;
  runKey: string;
  /** The last key of the previous page, or null for the first page. */
  after: string | null;
  /** Inclusive upper bound of the keys (a partition's last key), or null for none. */
  upTo: string | null;
  limit: number;
}

export interface PartitionRequest<P> {
  params: P;
  runKey: string;
  /** How many partitions: return `count - 1` ascending split keys. */
  count: number;
}

export interface JobOptions<T = TargetRow, P = Record<string, unknown>, I = unknown> {
  /** What the job hands the unit for one target: its per-target options plus the run's params. */
  input(target: T, params: P): I;
  /** Retry policy of each unit attempt; defaults to 3 attempts with exponential backoff from 1s. */
  retry?: RetryPolicy;
  /** Time one unit attempt may take before Temporal retries it. */
  timeout?: Duration;
}

export interface TriggerOptions {
  /** Jobs in flight at once for one trigger run. */
  window?: number;
  /** Targets fetched per page. */
  pageSize?: number;
  /** History length after which the trigger lets its jobs in flight finish and continues as new. */
  maxHistoryEvents?: number;
  /**
   * `per-target` (the default): a child workflow per target; `per-chunk`: one per `chunkSize` targets;
   * `bulk`: one activity per `chunkSize` targets. See the README's "Sizing" for what each costs.
   */
  granularity?: Granularity;
  chunkSize?: number;
  /** Units running at once inside one chunk job. */
  chunkConcurrency?: number;
  /** Split the run into this many key ranges, each its own trigger workflow (needs `partitionKeys`). */
  partitions?: number;
  /**
   * One target at a time, in key order (window 1, per-target): for work whose order matters, like the
   * seed's single worker on a queue.
   */
  ordered?: boolean;
  /**
   * Stop a run whose failures pass this many: it dispatches nothing more, lets its jobs in flight finish and
   * ends with `stopped: { state: 'failed', reason }` — a credential that expired fails a few targets, not all.
   */
  maxFailures?: number;
  /** The same as a share of the targets finished (0.2 = 20%), checked once `minTargets` have finished. */
  maxFailureRatio?: number;
  minTargets?: number;
  /**
   * At the end of every run, check that each target the query still selects has a ledger row for each step
   * that applies to it or an open failure record (what `tju verify` does); the summary and the run history
   * say what it found. One pass of the target query, in pages.
   */
  verify?: boolean;
}

/** When a batch runs by itself: a Temporal Schedule that `tju schedule apply` creates or updates. */
export interface ScheduleOptions {
  /** Cron expressions, e.g. `0 2 * * *` for 02:00 every day. */
  cron?: string | string[];
  /** Temporal calendar specs, e.g. `[{ dayOfMonth: 1, hour: 2 }]`; with `cron`, the union of both. */
  calendar?: CalendarSpec[];
  /** IANA time zone of the cron expressions and of the run's date; default UTC. */
  timezone?: string;
  /** What to do when a start comes while the previous run still goes; default `skip` (no overlap). */
  overlap?: 'skip' | 'buffer-one' | 'buffer-all' | 'cancel-other' | 'terminate-other' | 'allow-all';
  /** How late a missed start (server down) may still run; default 1 day. */
  catchupWindow?: Duration;
  /** Random delay added to each start, to spread load. */
  jitter?: Duration;
  /**
   * Params of the run that was scheduled for `scheduledAt` (its nominal time, also in backfills). Default:
   * `{ date }` — that time's calendar date in the schedule's time zone — for batches with a `date` param.
   */
  params?: (scheduledAt: Date, timezone: string) => Record<string, unknown>;
}

export interface BatchDefinition<P extends z.ZodObject, T extends TargetRow, I> {
  /** Dotted name, e.g. `billing.issue-invoices`; part of every workflow ID of the batch. */
  name: string;
  description?: string;
  /** Parameters of a run; the CLI turns each key into a `--flag`. */
  params: P;
  /** What identifies a run, e.g. the billing date. The same run key never processes a target twice. */
  runKey(params: z.output<P>): string;
  /** The Trigger's query: targets not yet processed for this run, `key > after`, in key order, `limit` rows. */
  targets(db: Db, page: TargetPage<z.output<P>>): Promise<T[]>;
  /**
   * Split keys for running one run as `trigger.partitions` key ranges, each a trigger workflow of its own:
   * typically quantiles of the target keys. Needed only by batches that use partitions.
   */
  partitionKeys?(db: Db, request: PartitionRequest<z.output<P>>): Promise<string[]>;
  /** The Job: one per target; builds the unit's input and says how the unit is retried. */
  job: JobOptions<T, z.output<P>, I>;
  /** The Unit run once per target; or `steps`, for several. */
  unit?: Unit<I>;
  /**
   * Several units per target, in order (a chain): each its own transaction and ledger entry. A step that gives
   * up stops the target's chain; `tju retry` runs it again from that step (the ledger skips those before).
   */
  steps?: Step<I>[];
  trigger?: TriggerOptions;
  schedule?: ScheduleOptions;
  /** A task queue of its own, so a slow batch cannot starve others; workers poll it beside the default. */
  taskQueue?: string;
  /** Told of each target whose job gives up and of each run that ends with failures; default: a log line. */
  onFailure?: FailureHook;
  /**
   * Called once when a run ends, however it ended (Laravel's `then`/`finally`): its summary says what it did,
   * and `summary.stopped` whether it was cancelled or stopped by its failure threshold. The run ends first; the
   * workers call the hook after it, retried within `hookRetry`, so make it idempotent (a worker that dies
   * mid-call calls it again).
   */
  onComplete?: CompletionHook;
  /** How the workers call this batch's hooks, apart from its runs: attempts and backoff (see HookRetry). */
  hookRetry?: HookRetry;
  /**
   * How long `tju prune` keeps this batch's ledger rows, failure records and run history after a run's last
   * activity, e.g. `400d` for records an audit needs; wins over `--older-than`. Default: what `--older-than` says.
   */
  retention?: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Batch = BatchDefinition<z.ZodObject, any, any>;

const BATCH_NAME = /^[a-z][a-z0-9]*([.-][a-z0-9]+)*$/;

export function defineBatch<P extends z.ZodObject, T extends TargetRow, I>(definition: BatchDefinition<P, T, I>): BatchDefinition<P, T, I> {
  if (!BATCH_NAME.test(definition.name) || definition.name.length > 100) {
    throw new Error(`batch name "${definition.name}" must be lower-case words joined by "." or "-", at most 100 characters`);
  }
  const schedule = definition.schedule;
  if (schedule && !schedule.cron && !schedule.calendar?.length) {
    throw new Error(`batch "${definition.name}": a schedule needs cron or calendar`);
  }
  if (schedule?.timezone) dateIn(new Date(), schedule.timezone); // throws RangeError on an unknown zone, now
  if (Boolean(definition.unit) === Boolean(definition.steps)) {
    throw new Error(`batch "${definition.name}": give either unit or steps`);
  }
  const names = stepsOf(definition).map((step) => step.unit.name);
  if (names.length === 0) throw new Error(`batch "${definition.name}": steps is empty`);
  if (new Set(names).size !== names.length) throw new Error(`batch "${definition.name}": a unit appears twice in its steps`);
  for (const { unit } of stepsOf(definition)) {
    if (unit.rateLimit !== undefined && !(unit.rateLimit > 0))
      throw new Error(`unit "${unit.name}": rateLimit must be a positive number of calls a second`);
  }
  if (definition.retention !== undefined && !parseDuration(definition.retention)) {
    throw new Error(`batch "${definition.name}": retention "${definition.retention}" is not a duration like 90d`);
  }
  return definition;
}

/** The calendar date (YYYY-MM-DD) of `date` in an IANA time zone. */
export function dateIn(date: Date, timezone: string): string {
  // en-CA formats dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(date);
}

/** A `YYYY-MM-DD` parameter that defaults to today's date in the process's time zone. */
export function dateParam() {
  return z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD')
    .refine(isRealDate, 'not a calendar date')
    .default(() => localDate(new Date()));
}

function isRealDate(value: string): boolean {
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

export function localDate(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The instant at which the calendar day `date` (YYYY-MM-DD) starts in an IANA time zone. */
export function startOfDayIn(date: string, timezone: string): Date {
  const [y, m, d] = date.split('-').map(Number);
  const utcMidnight = Date.UTC(y, m - 1, d);
  // The zone's offset at an instant: how far its wall clock is from UTC's. Twice, for days that change DST.
  const offset = (at: number) => {
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    }).formatToParts(new Date(at));
    const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
    return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - at;
  };
  const first = utcMidnight - offset(utcMidnight);
  return new Date(utcMidnight - offset(first));
}
