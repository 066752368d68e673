// Inputs and outputs of tju's workflows. Plain data only: they are stored in workflow histories,
// so changing a field's meaning is a breaking change for runs already in flight.
import type { Duration, RetryPolicy } from '@temporalio/common';

export interface RunSummary {
  total: number;
  succeeded: number;
  failed: number;
  skipped: number;
}

export interface RunProgress extends RunSummary {
  inFlight: number;
  /** Key of the last target dispatched. */
  cursor: string | null;
  /** How many times this run has continued as new so far. */
  continuedRuns: number;
  done: boolean;
}

export interface JobSettings {
  retry?: RetryPolicy;
  timeout?: Duration;
}

export interface TriggerInput {
  batch: string;
  runKey: string;
  params: Record<string, unknown>;
  window: number;
  pageSize: number;
  maxHistoryEvents: number;
  job: JobSettings;
}

/** Carried across continue-as-new. */
export interface TriggerState {
  counts: RunSummary;
  cursor: string | null;
  continuedRuns: number;
}

export interface Target {
  key: string;
  [column: string]: unknown;
}

export interface JobInput {
  batch: string;
  runKey: string;
  params: Record<string, unknown>;
  target: Target;
  settings: JobSettings;
}

export interface JobResult {
  outcome: 'succeeded' | 'skipped';
}

export interface FetchTargetsRequest {
  batch: string;
  runKey: string;
  params: Record<string, unknown>;
  after: string | null;
  limit: number;
}
