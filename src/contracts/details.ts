// What travels beside a failure or a heartbeat, typed in one place: the activity or workflow that sends it
// encodes, the one that reads it decodes and checks. They are stored in histories, so their shapes only grow.
import type { FailureRecord, RunSummary, StepOutcome } from './types';

/** What a failed unit attempt says beside its error: which attempt it was, and of which unit. */
export interface UnitFailureDetails {
  attempt: number;
  unit?: string;
}

export const unitFailureDetails = {
  encode: (details: UnitFailureDetails): unknown[] => [details],
  decode(details: readonly unknown[] | null | undefined): Partial<UnitFailureDetails> {
    const first = details?.[0] as Partial<UnitFailureDetails> | undefined;
    return {
      ...(typeof first?.attempt === 'number' ? { attempt: first.attempt } : {}),
      ...(typeof first?.unit === 'string' ? { unit: first.unit } : {}),
    };
  },
};

/** The type of a unit's failure on a worker that does not define its batch: never the target's failure. */
export const UNKNOWN_BATCH = 'UnknownBatch';

/** The type of an attempt a unit's open circuit breaker refused: the job waits and asks again, counting nothing. */
export const BREAKER_OPEN = 'BreakerOpen';

/** How long a refused attempt's job waits before it asks again. */
export const breakerOpenDetails = {
  encode: (retryAfterMs: number): unknown[] => [{ retryAfterMs }],
  decode(details: readonly unknown[] | null | undefined): number {
    const first = details?.[0] as { retryAfterMs?: unknown } | undefined;
    return typeof first?.retryAfterMs === 'number' && first.retryAfterMs > 0 ? first.retryAfterMs : 1000;
  },
};

/** What a per-target job that gave up says: its failure record, and a chain's step outcomes so far. */
export interface TargetFailedDetails {
  failure?: FailureRecord;
  steps?: Record<string, StepOutcome>;
}

/** The type of the failure a per-target job that gave up ends with. */
export const TARGET_FAILED = 'TargetFailed';

export const targetFailedDetails = {
  encode: ({ failure, steps }: TargetFailedDetails): unknown[] => (steps ? [failure, steps] : [failure]),
  decode(details: readonly unknown[] | null | undefined): TargetFailedDetails {
    const [failure, steps] = details ?? [];
    return {
      ...(failure && typeof failure === 'object' ? { failure: failure as FailureRecord } : {}),
      ...(steps && typeof steps === 'object' ? { steps: steps as Record<string, StepOutcome> } : {}),
    };
  },
};

/** What a bulk chunk heartbeats: where a retried attempt resumes, and the counts so far. */
export interface BulkProgress {
  /** Every target before this index is finished (committed, skipped, or failed and recorded)… */
  next: number;
  /** …and counted here. */
  counts: Omit<RunSummary, 'total'>;
  /** Targets after `next` that lanes finished already, with their outcomes: not run again on resume. */
  ahead: Record<number, Record<string, StepOutcome>>;
}

export const bulkProgress = {
  encode: (progress: BulkProgress): BulkProgress => progress,
  /** The resume point of a retried chunk; nothing (start over) for details of any other shape. */
  decode(details: unknown): BulkProgress | undefined {
    const progress = details as Partial<BulkProgress> | undefined;
    const counts = progress?.counts;
    const valid =
      typeof progress?.next === 'number' &&
      counts !== undefined &&
      ['succeeded', 'failed', 'skipped'].every((key) => typeof counts[key as keyof typeof counts] === 'number') &&
      typeof progress.ahead === 'object' &&
      progress.ahead !== null;
    return valid ? (progress as BulkProgress) : undefined;
  },
};
