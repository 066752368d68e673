import { needsOwnActivity, runsAsActivity } from './unit';
import { dateIn } from './dates';
import { stepsOf, type Batch, type TriggerOptions } from './batch';
import { UserError } from './errors';
import {
  ENGINE,
  type CanarySettings,
  type FailureFilter,
  type JobSettings,
  type StepSettings,
  type TargetSource,
  type TriggerInput,
} from './contracts/types';
import { resolveRetry } from './contracts/retry';
import { DEFAULT_UNIT_TIMEOUT, MAX_CANARY, MAX_WINDOW } from './contracts/limits';

/** Where a batch and its run say nothing: each granularity's own, from the measurements in docs/performance.md. */
export const TRIGGER_DEFAULTS = { pageSize: 500, maxHistoryEvents: 5000 } as const;
export const GRANULARITY_DEFAULTS = {
  /** Enough children in flight to keep several workers busy; a history stays under 5,000 + 3 × window events. */
  'per-target': { window: 100, chunkSize: 1, chunkConcurrency: 1 },
  /**
   * Per-chunk jobs hold their workflow task open while their units run, so only as many chunks should be in
   * flight as the workers have unit slots for (8 chunks x 10 units covers 4 workers' default 20 slots). A
   * chunk costs the server and the worker a child workflow whatever its size: at 10,000 targets chunks of 500
   * ran at 0.59–0.68 x the floor, chunks of 100 at 0.46 (docs/performance.md, "Where the time goes"). Chunks whose units are
   * all local are staged in PostgreSQL like bulk's, so one page of 4,000 is one query for a full window of them.
   */
  'per-chunk': { window: 8, pageSize: 4000, chunkSize: 500, chunkConcurrency: 10 },
  /**
   * Bulk chunks run their units in the worker's own process, so two chunks with 10 lanes each fill a worker's
   * default 20 unit slots. Each page and each chunk costs a round of activity and workflow tasks on the server
   * (0.1 ms of its CPU per target at 500, 0.01–0.02 at 2,000). Their targets are staged in PostgreSQL, not
   * carried through history, so neither is bound by a payload's size: a page of 10,000 is one query for five
   * chunks, and chunks of 2,000 still give a run of 4,000 both chunks' lanes.
   */
  bulk: { window: 2, pageSize: 10000, chunkSize: 2000, chunkConcurrency: 10 },
} as const;

export interface ResolvedRun {
  batch: Batch;
  params: Record<string, unknown>;
  runKey: string;
}

/** Validates a run's params against the batch's schema; a bad value is a one-line UserError. */
export function resolveRun(batch: Batch, rawParams: Record<string, unknown> = {}): ResolvedRun {
  const parsed = batch.params.strict().safeParse(rawParams);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = issue.path.join('.') || (issue as { keys?: string[] }).keys?.join(', ') || 'params';
    const got = issue.path.length ? ` (got ${JSON.stringify(rawParams[String(issue.path[0])])})` : '';
    throw new UserError(`${batch.name}: ${name}: ${issue.message}${got}`);
  }
  const params = parsed.data as Record<string, unknown>;
  return { batch, params, runKey: batch.runKey(params) };
}

/** The trigger workflow's input for a run: the batch's trigger and job settings, then any overrides. */
export function buildTriggerInput(
  { batch, params, runKey }: ResolvedRun,
  overrides: TriggerOptions & { source?: TargetSource; failures?: FailureFilter } = {},
): TriggerInput {
  // An option left undefined (`{ window: undefined }`) means "not set", not "clear the default".
  const set = Object.fromEntries(Object.entries({ ...batch.trigger, ...overrides }).filter(([, v]) => v !== undefined));
  const { ordered, canary, ...options } = set as TriggerOptions & { source?: TargetSource; failures?: FailureFilter };
  const outside = options.granularity === 'bulk' && stepsOf(batch).find(({ unit }) => needsOwnActivity(unit));
  if (outside) {
    throw new UserError(
      `${batch.name}: bulk runs every unit inside its chunk's activity, but ${outside.unit.name} runs as an activity of its own ` +
        '(a rate limit, a task queue): use per-chunk or per-target',
    );
  }
  const granularity = ordered ? 'per-target' : (options.granularity ?? 'per-target');
  const input: TriggerInput = {
    engine: ENGINE,
    batch: batch.name,
    runKey,
    params,
    ...TRIGGER_DEFAULTS,
    ...GRANULARITY_DEFAULTS[granularity],
    ...options,
    granularity,
    ...(ordered ? { window: 1 } : {}),
    // A retry pages the run's failure records, which the batch's partition keys know nothing of: one trigger
    // takes each open failure once.
    ...(options.source === 'failures' ? { partitions: 1 } : {}),
    // A retry takes the failures a person chose: no canary before it.
    ...(canary && options.source !== 'failures' ? { canary: canarySettings(batch, canary) } : {}),
    job: jobSettings(batch),
    ...fairnessOf(batch, options.window ?? GRANULARITY_DEFAULTS[granularity].window),
    // Only then a command of its own: the histories of batches without the hook keep their shape.
    ...(batch.onComplete ? { onComplete: true } : {}),
  };
  checkTriggerInput(batch, input);
  return input;
}

/** A setting no run can work with is a one-line UserError, before anything starts. */
function checkTriggerInput(batch: Batch, input: TriggerInput): void {
  const wholeAtLeastOne = {
    window: input.window,
    pageSize: input.pageSize,
    maxHistoryEvents: input.maxHistoryEvents,
    chunkSize: input.chunkSize,
    chunkConcurrency: input.chunkConcurrency,
    partitions: input.partitions,
  };
  for (const [name, value] of Object.entries(wholeAtLeastOne)) {
    if (value !== undefined && !(Number.isInteger(value) && value >= 1))
      throw new UserError(`${batch.name}: ${name} must be a whole number of at least 1 (got ${value})`);
  }
  if (input.window > MAX_WINDOW)
    throw new UserError(`${batch.name}: window must be at most ${MAX_WINDOW} (got ${input.window}); use partitions for more`);
  if (input.fairness && (input.partitions ?? 1) > 1)
    throw new UserError(`${batch.name}: a fair run takes its targets from one queue by key (job.fairnessKey): it cannot be partitioned`);
  if (input.maxFailureRatio !== undefined && !(input.maxFailureRatio > 0 && input.maxFailureRatio <= 1)) {
    throw new UserError(`${batch.name}: maxFailureRatio must be above 0 and at most 1 (got ${input.maxFailureRatio})`);
  }
}

/** Fair dispatch when the batch names a fairness key: each key's bound in flight (default: the whole window). */
function fairnessOf(batch: Batch, window: number): Pick<TriggerInput, 'fairness'> {
  const { fairnessKey, maxInFlightPerKey = window } = batch.job;
  if (!fairnessKey) {
    if (batch.job.maxInFlightPerKey !== undefined) throw new UserError(`${batch.name}: job.maxInFlightPerKey needs job.fairnessKey`);
    return {};
  }
  if (!(Number.isInteger(maxInFlightPerKey) && maxInFlightPerKey >= 1))
    throw new UserError(`${batch.name}: job.maxInFlightPerKey must be a whole number of at least 1 (got ${maxInFlightPerKey})`);
  return { fairness: { maxInFlightPerKey } };
}

/** The canary's settings with their defaults (no failure passes; a person opens the gate), checked. */
function canarySettings(batch: Batch, canary: NonNullable<TriggerOptions['canary']>): CanarySettings {
  const { targets, maxFailureRatio = 0, continue: next = 'manual' } = canary;
  if (!(Number.isInteger(targets) && targets >= 1 && targets <= MAX_CANARY))
    throw new UserError(`${batch.name}: canary.targets must be a whole number from 1 to ${MAX_CANARY} (got ${targets})`);
  if (!(typeof maxFailureRatio === 'number' && maxFailureRatio >= 0 && maxFailureRatio <= 1))
    throw new UserError(`${batch.name}: canary.maxFailureRatio must be from 0 to 1 (got ${maxFailureRatio})`);
  if (next !== 'auto' && next !== 'manual')
    throw new UserError(`${batch.name}: canary.continue must be 'auto' or 'manual' (got ${JSON.stringify(next)})`);
  return { targets, maxFailureRatio, continue: next };
}

/**
 * How jobs run the batch's units: a chain, one step per unit (a single unit is a chain of one), each with its
 * retry policy and timeout resolved — the unit's, then the batch's `job.retry` and `job.timeout` over them.
 */
export function jobSettings(batch: Batch): JobSettings {
  return {
    steps: stepsOf(batch).map(({ unit }): StepSettings => ({
      unit: unit.name,
      retry: resolveRetry(unit.retry, batch.job.retry),
      timeout: batch.job.timeout ?? unit.timeout ?? DEFAULT_UNIT_TIMEOUT,
      ...(runsAsActivity(unit) ? { regular: true } : {}),
      ...(unit.taskQueue ? { taskQueue: unit.taskQueue } : unit.rateLimit ? { ownQueue: true } : {}),
      ...(unit.heartbeatTimeout ? { heartbeatTimeout: unit.heartbeatTimeout } : {}),
    })),
  };
}

/** The run a schedule started for `scheduledAt`: params from the schedule's nominal time, not the clock. */
export function resolveScheduledRun(batch: Batch, scheduledAt: Date): ResolvedRun {
  const timezone = batch.schedule?.timezone ?? 'UTC';
  const raw = batch.schedule?.params
    ? batch.schedule.params(scheduledAt, timezone)
    : 'date' in batch.params.shape
      ? { date: dateIn(scheduledAt, timezone) }
      : {};
  return resolveRun(batch, raw);
}
