import type { Pool } from 'pg';
import type { RunSummary } from '../workflows/types';
import { logger } from './log';

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
 * Called by the worker for failure events. A hook that throws is retried with the activity that called it,
 * so a hook should be idempotent (a webhook receiver may see an event twice).
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

/** The default: one structured log line per event. */
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
