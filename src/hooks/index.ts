import type { Duration } from '@temporalio/common';
import type { Pool } from 'pg';
import type { RunSummary } from '../contracts/types';
import { logger } from '../log';

/** Sent once for each target whose job gives up, and once at the end of a run that had failures. */
export type FailureEvent =
  | {
      kind: 'target-failed';
      batch: string;
      runKey: string;
      targetKey: string;
      errorType: string;
      error: string;
      attempts: number;
      nonRetryable: boolean;
    }
  | { kind: 'run-failed'; batch: string; runKey: string; workflowId: string; summary: RunSummary };

/**
 * Told of failure events, by the workers, apart from the run (see HookRetry): a hook that throws is called
 * again, so a hook should be idempotent (a webhook receiver may see an event twice).
 */
export type FailureHook = (event: FailureEvent) => Promise<void> | void;

/** The end of a run, as a batch's `onComplete` hook receives it. */
export interface RunCompleted {
  batch: string;
  runKey: string;
  workflowId: string;
  summary: RunSummary;
}

/** `db`: the worker's pool, for a hook that records the run in the app's own tables. */
export type CompletionHook = (event: RunCompleted, context: { db: Pool }) => Promise<void> | void;

/**
 * How often a hook is called until it returns, apart from the run: a run ends when its work ends, and a hook
 * that gives up is recorded (`tju status`, `tju runs`, the `tju_hooks_total` metric), never retried forever.
 */
export interface HookRetry {
  /** Calls in all, the first included. Default 10. */
  maximumAttempts?: number;
  /** Wait before the second call. Default 1s. */
  initialInterval?: Duration;
  /** Each wait is this many times the one before. Default 2. */
  backoffCoefficient?: number;
  /** The longest wait. Default 5m (10 calls then span about 8.5 minutes). */
  maximumInterval?: Duration;
  /** How long one call may take before it counts as failed. Default 1m. */
  timeout?: Duration;
}

export const DEFAULT_HOOK_RETRY = {
  maximumAttempts: 10,
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '5m',
  timeout: '1m',
} as const satisfies HookRetry;

/** The default failure hook: one structured log line per event, written at once (no delivery to retry). */
export const logFailure: FailureHook = (event) => {
  logger.warn({ ...event }, event.kind === 'target-failed' ? 'target failed' : 'run finished with failed targets');
};

/** Posts each event as JSON to `url`; a non-2xx answer throws, so the event is sent again. */
export function webhook(url: string, headers: Record<string, string> = {}): FailureHook {
  return async (event) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(event),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new Error(`webhook ${url} answered ${response.status}`);
  };
}
