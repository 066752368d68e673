import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  isCancellation,
  TerminatedFailure,
  TimeoutFailure,
} from '@temporalio/workflow';
import { bookkeeping } from '../bookkeeping';
import { TARGET_FAILED, targetFailedDetails } from '../../src/contracts/details';
import type { JobEnd, JobTargets } from '../../src/contracts/types';
import type { RunState } from './state';
import { countOf } from '../../src/contracts/slices';

const { settleTargets } = bookkeeping;

/**
 * The one place an error from a job becomes an outcome. A per-target job that gave up recorded its failure and
 * says its chain's steps so far; any other failure of a child or a bulk chunk said nothing of its targets.
 * A cancellation (`cancel --now`) and an error no job can end with are the caller's.
 */
export function endOf(err: unknown): JobEnd {
  if (isCancellation(err)) throw err;
  if (err instanceof ChildWorkflowFailure && err.cause instanceof ApplicationFailure && err.cause.type === TARGET_FAILED) {
    return { status: 'failed', ...targetFailedDetails.decode(err.cause.details) };
  }
  if (err instanceof ChildWorkflowFailure || err instanceof ActivityFailure) return { status: 'ended', how: describe(err) };
  throw err;
}

const describe = (err: ChildWorkflowFailure | ActivityFailure): string => {
  const cause = err.cause;
  if (cause instanceof TerminatedFailure) return 'was terminated';
  if (cause instanceof TimeoutFailure) return 'timed out';
  return err instanceof ActivityFailure ? `gave up: ${(cause ?? err).message}` : `failed: ${cause?.message ?? err.message}`;
};

/**
 * Counts how a job ended into the run: its result; a recorded failure; for a job that ended without saying
 * what it did, what the ledger says of its targets (the rest get failure records). Returns the job's outcome
 * for the metrics.
 */
export async function countEnd(run: RunState, targets: JobTargets, end: JobEnd): Promise<string> {
  switch (end.status) {
    case 'completed':
      run.tally(end.result);
      return 'completed';
    case 'failed':
      run.counts.failed += countOf(targets);
      if (end.steps) run.addSteps(end.steps);
      return 'failed';
    case 'ended': {
      const { batch, runKey, params } = run.input;
      const settled = await settleTargets({ batch, runKey, params, targets, reason: { type: 'JobEnded', message: `its job ${end.how}` } });
      run.tally(settled);
      return settled.failed ? 'failed' : 'completed';
    }
  }
}
