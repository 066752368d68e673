import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { RunProgress } from './types';

/**
 * Operators' controls of a running trigger. Signals, not updates: they reach the run whatever its state
 * (no worker polling, mid continue-as-new), and the client reads the effect back with the progress query.
 */
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const cancelSignal = defineSignal<[CancelRequest]>('cancel');

export interface CancelRequest {
  /** Also cancel the jobs in flight, instead of letting them finish. */
  now?: boolean;
  reason?: string;
}

/** A trigger's live counts. */
export const progressQuery = defineQuery<RunProgress>('progress');
