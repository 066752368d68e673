import os from 'node:os';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { UNKNOWN_BATCH } from '../src/contracts/details';
import type { Batch } from '../src/batch';
import type { Pool } from 'pg';
import type { FailureHook, HookRetry } from '../src/hooks';
import { UnknownBatchError, type BatchRegistry } from '../src/registry';
import type { Slots } from '../src/util/slots';
import { StagedChunkGoneError, targetsOf } from '../src/db/stagedChunks';
import type { JobTargets, Target } from '../src/contracts/types';

/** What one unit run did, for metrics: outcome, and when it was scheduled and finished (epoch ms). */
export interface UnitEvent {
  batch: string;
  runKey: string;
  targetKey: string;
  outcome: 'succeeded' | 'skipped' | 'failed';
  attempt: number;
  scheduledAt: number;
  finishedAt: number;
}

export interface ActivityDeps {
  pool: Pool;
  batches: BatchRegistry;
  /** The schema of tju's tables (default `tju`). */
  schema?: string;
  /**
   * The units this worker process runs at once, whatever runs them; shared by all the process's task queues.
   * Default: slots of its own, `maxConcurrentUnits` of them.
   */
  unitSlots?: Slots;
  maxConcurrentUnits?: number;
  /** Called after every unit attempt, committed or not. Must not throw. */
  onUnitFinished?: (event: UnitEvent) => void;
  /** App-wide failure hook, for batches that declare none; unset: a structured log line. */
  onFailure?: FailureHook;
  /** App-wide hook retry policy, for batches that declare none. */
  hookRetry?: HookRetry;
  /** Told when an event was queued, so the worker's hook delivery looks at once. */
  onHookQueued?: () => void;
}

/** The same for every retry of the running activity: a retried write of an event adds nothing. */
export function activityKey(): string {
  const { workflowExecution, activityId } = Context.current().info;
  return `${workflowExecution?.workflowId}/${workflowExecution?.runId}/${activityId}`;
}

/**
 * The batch an activity works for. One this worker does not define is never the target's failure: the
 * activity fails with `UnknownBatch`, retried within a second (by another worker, in time), and a unit's job
 * leaves its workflow task for a worker that knows the batch (workflows/step.ts). Said each time, naming this
 * worker.
 */
export function batchOf(batches: BatchRegistry, name: string): Batch {
  try {
    return batches.get(name);
  } catch (err) {
    if (!(err instanceof UnknownBatchError)) throw err;
    const { taskQueue, activityType } = Context.current().info;
    const worker = `${os.hostname()}/${process.pid}`;
    Context.current().log.warn('this worker does not define the batch; it leaves the work to a worker that does', {
      batch: name,
      worker,
      taskQueue,
      activityType,
      known: batches.names().join(', '),
    });
    throw ApplicationFailure.create({
      type: UNKNOWN_BATCH,
      message: `worker ${worker} does not define batch ${name}`,
      nextRetryDelay: '1s',
    });
  }
}

/**
 * A job's targets, read from its staged chunk if it has one. A chunk whose row is gone cannot be done or
 * settled: its job fails for good, and the run stops saying why.
 */
export async function stagedOrGiven(pool: Pool, targets: JobTargets, schema?: string): Promise<Target[]> {
  try {
    return await targetsOf(pool, targets, schema);
  } catch (err) {
    if (err instanceof StagedChunkGoneError) throw ApplicationFailure.nonRetryable(err.message, err.name);
    throw err;
  }
}
