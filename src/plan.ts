import type { RetryPolicy } from '@temporalio/common';
import { runsAsActivity } from './unit';
import { dateIn } from './dates';
import { stepsOf, type Batch, type TriggerOptions } from './batch';
import { UserError } from './errors';
import type { JobSettings, StepSettings, TargetSource, TriggerInput } from '../workflows/types';
import { DEFAULT_UNIT_RETRY } from '../workflows/retry';

export const TRIGGER_DEFAULTS = { window: 100, pageSize: 500, maxHistoryEvents: 5000 } satisfies TriggerOptions;
/**
 * Per-chunk jobs hold their workflow task open while their units run, so only as many chunks should be in
 * flight as the workers have unit slots for (8 chunks x 10 units covers 4 workers' default 20 slots).
 */
export const PER_CHUNK_DEFAULT_WINDOW = 8;
/**
 * Bulk chunks run their units in the worker's own process, so two chunks of 500 with 10 lanes each fill a
 * worker's default 20 unit slots; a chunk is cut from one page of targets, so it is at most a page.
 */
export const BULK_DEFAULTS = { window: 2, chunkSize: 500, chunkConcurrency: 10 } as const;

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
  overrides: TriggerOptions & { source?: TargetSource } = {},
): TriggerInput {
  // An option left undefined (`{ window: undefined }`) means "not set", not "clear the default".
  const set = Object.fromEntries(Object.entries({ ...batch.trigger, ...overrides }).filter(([, v]) => v !== undefined));
  const { ordered, ...options } = set as TriggerOptions & { source?: TargetSource };
  const outside = options.granularity === 'bulk' && stepsOf(batch).find(({ unit }) => runsAsActivity(unit));
  if (outside) {
    throw new UserError(
      `${batch.name}: bulk runs every unit inside its chunk's activity, but ${outside.unit.name} runs as an activity of its own ` +
        '(a rate limit, a task queue): use per-chunk or per-target',
    );
  }
  return {
    batch: batch.name,
    runKey,
    params,
    ...TRIGGER_DEFAULTS,
    ...(options.granularity === 'per-chunk' ? { window: PER_CHUNK_DEFAULT_WINDOW } : {}),
    ...(options.granularity === 'bulk' ? BULK_DEFAULTS : {}),
    ...options,
    ...(ordered ? { window: 1, granularity: 'per-target' as const } : {}),
    // A retry pages the run's failure records, which the batch's partition keys know nothing of: one trigger
    // takes each open failure once.
    ...(options.source === 'failures' ? { partitions: 1 } : {}),
    job: jobSettings(batch),
    // Only then a command of its own: the histories of batches without the hook keep their shape.
    ...(batch.onComplete ? { onComplete: true } : {}),
  };
}

/**
 * How jobs run the batch's units. A single local unit keeps the settings' original shape (its histories do
 * not change); a chain, or a unit that runs as a regular activity, lists its steps.
 */
function jobSettings(batch: Batch): JobSettings {
  const steps = stepsOf(batch);
  const first = steps[0].unit;
  const settings: JobSettings = {
    retry: mergeRetry(first.retry, batch.job.retry),
    timeout: batch.job.timeout ?? first.timeout,
    unit: first.name,
  };
  if (steps.length === 1 && !runsAsActivity(first)) return settings;
  return {
    ...settings,
    steps: steps.map(({ unit }): StepSettings => {
      const retry = mergeRetry(unit.retry, batch.job.retry);
      const timeout = batch.job.timeout ?? unit.timeout;
      return {
        unit: unit.name,
        ...(retry ? { retry } : {}),
        ...(timeout ? { timeout } : {}),
        ...(runsAsActivity(unit) ? { regular: true } : {}),
        ...(unit.taskQueue ? { taskQueue: unit.taskQueue } : unit.rateLimit ? { ownQueue: true } : {}),
        ...(unit.heartbeatTimeout ? { heartbeatTimeout: unit.heartbeatTimeout } : {}),
      };
    }),
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

/**
 * The unit's policy, overridden field by field by the job's. Backoffs are capped at a minute unless a policy
 * says otherwise (Temporal's own cap, 100 × the first interval, would be unbounded by anything tju knows).
 */
function mergeRetry(unit?: RetryPolicy, job?: RetryPolicy): RetryPolicy | undefined {
  return unit || job ? { maximumInterval: DEFAULT_UNIT_RETRY.maximumInterval, ...unit, ...job } : undefined;
}
