import type { CalendarSpec } from '@temporalio/client';
import type { Duration, RetryPolicy } from '@temporalio/common';
import { z } from 'zod';
import type { Granularity } from './contracts/types';
import { dateIn } from './dates';
import type { Db } from './db/types';
import { parseDuration } from './duration';
import type { CompletionHook, FailureHook, HookRetry } from './hooks';
import type { Unit } from './unit';

/** One step of a batch's chain: a unit, run for the targets whose input `when` accepts (all without it). */
export interface ChainStep<I> {
  unit: Unit<I>;
  when?(input: I): boolean;
}

export type Step<I> = Unit<I> | ChainStep<I>;

/** A batch's units in order: its chain, or its one unit as a chain of one. */
export function stepsOf<I>(batch: { unit?: Unit<I>; steps?: Step<I>[] }): ChainStep<I>[] {
  if (batch.steps) return batch.steps.map((step) => (step && 'execute' in step ? { unit: step } : step));
  return batch.unit ? [{ unit: batch.unit }] : [];
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
  /**
   * Fairness inside a run: the key a target's work is shared by (a tenant, a merchant). The run takes targets
   * round-robin by key, wherever they lie in the query's order, so a small tenant is not stuck behind a big one;
   * also Temporal's task queue fairness key of each target's job (docs/operating.md#priority-and-fairness).
   */
  fairnessKey?(target: T): string | number | null | undefined;
  /** With `fairnessKey`: at most this many targets of one key in flight at once (default: the run's window). */
  maxInFlightPerKey?: number;
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
   * `bulk`: one activity per `chunkSize` targets. See docs/performance.md, "Sizing", for what each costs.
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
  /**
   * A canary gate: the run does its first `targets` targets (at most 1,000), then pauses itself with their
   * figures. When no more than `maxFailureRatio` of them failed (default 0: none) it goes on by itself if
   * `continue` is `'auto'` (for scheduled runs), else it waits for `tju resume`; over the ratio it stays paused
   * with the reason until resumed or cancelled. Nothing past the canary is dispatched before the gate opens.
   */
  canary?: { targets: number; maxFailureRatio?: number; continue?: 'auto' | 'manual' };
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
  /**
   * Against other batches on the same workers: Temporal's task queue priority, 1 (first) to 5, default 3 — nightly
   * billing at 1 before a newsletter at 5. Every workflow and activity of a run inherits it. Servers 1.29 and
   * later honour it (docs/operating.md#priority-and-fairness).
   */
  priority?: number;
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

/** Any batch, its params, targets and input types erased: what a registry or a worker holds. */
export type Batch = BatchDefinition<z.ZodObject, TargetRow, unknown>;

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
  const { priority } = definition;
  if (priority !== undefined && !(Number.isInteger(priority) && priority >= 1 && priority <= 5)) {
    throw new Error(`batch "${definition.name}": priority must be a whole number from 1 (first) to 5 (got ${priority})`);
  }
  if (definition.retention !== undefined && !parseDuration(definition.retention)) {
    throw new Error(`batch "${definition.name}": retention "${definition.retention}" is not a duration like 90d`);
  }
  return definition;
}
