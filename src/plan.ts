import type { RetryPolicy } from '@temporalio/common';
import { dateIn, type Batch, type TriggerOptions } from './definitions';
import { UserError } from './errors';
import type { TargetSource, TriggerInput } from '../workflows/types';
import { DEFAULT_UNIT_RETRY } from '../workflows/retry';

export const TRIGGER_DEFAULTS = { window: 100, pageSize: 500, maxHistoryEvents: 5000 } satisfies TriggerOptions;
/**
 * Per-chunk jobs hold their workflow task open while their units run, so only as many chunks should be in
 * flight as the workers have unit slots for (8 chunks x 10 units covers 4 workers' default 20 slots).
 */
export const PER_CHUNK_DEFAULT_WINDOW = 8;

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
  return {
    batch: batch.name,
    runKey,
    params,
    ...TRIGGER_DEFAULTS,
    ...(options.granularity === 'per-chunk' ? { window: PER_CHUNK_DEFAULT_WINDOW } : {}),
    ...options,
    ...(ordered ? { window: 1, granularity: 'per-target' as const } : {}),
    job: { retry: mergeRetry(batch.unit.retry, batch.job.retry), timeout: batch.job.timeout, unit: batch.unit.name },
    // Only then a command of its own: the histories of batches without the hook keep their shape.
    ...(batch.onComplete ? { onComplete: true } : {}),
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
