import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { executeChild, isCancellation, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { BOOKKEEPING } from '../bookkeeping';
import { chunkJobWorkflow } from '../chunk';
import { chunkWorkflowId, jobWorkflowId, runSearchAttributes, searchAttributes, searchValue } from '../../src/contracts/ids';
import { jobWorkflow } from '../job';
import type { JobEnd, JobInput, JobTargets } from '../../src/contracts/types';
import { endOf } from './outcome';
import { keyRangeOf } from '../../src/contracts/slices';
import type { RunState } from './state';

/**
 * The bulk granularity's job: one activity per chunk. It heartbeats as its targets finish (and every few
 * seconds while one waits for a retry), so a worker that dies is noticed within the heartbeat timeout and the
 * chunk resumes elsewhere after its last finished target; its targets' own failures are counted inside it.
 */
const { runChunk } = proxyActivities<Activities>({
  startToCloseTimeout: '24h',
  // How soon a dead worker's chunk moves on. Its heartbeats reach the server once a second (the worker's
  // HEARTBEAT_THROTTLE_MS): what a resumed chunk may run again.
  heartbeatTimeout: '5s',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

/** Waiting for a job another trigger started: as long as that job takes, alive by heartbeat. */
const { awaitJob } = proxyActivities<Activities>({ ...BOOKKEEPING, startToCloseTimeout: '24h', heartbeatTimeout: '1m' });

/**
 * Runs one job over some of a page's targets (one per-target, a chunk otherwise; a chunk may be staged)
 * and says how it ended.
 */
export type StartJob = (targets: JobTargets, fairnessKey?: string) => Promise<JobEnd>;

/**
 * The job of each granularity, behind one interface: a child workflow per target, one per chunk, or one
 * activity per chunk. A job already running under the same ID — another trigger of the run started it: a retry
 * beside a re-run, a reset trigger — is awaited and its result counted.
 */
export function jobStarter(run: RunState): StartJob {
  const { input } = run;
  const job: Omit<JobInput, 'target'> = {
    engine: input.engine,
    batch: input.batch,
    runKey: input.runKey,
    params: input.params,
    settings: input.job,
  };
  const chunk = <T extends JobTargets>(targets: T) => ({ ...job, targets, concurrency: input.chunkConcurrency });
  const attributes = runSearchAttributes(input.batch, input.runKey);
  const idOf = (first: string, last: string): string =>
    input.granularity === 'per-target'
      ? jobWorkflowId(input.batch, input.runKey, first)
      : chunkWorkflowId(workflowInfo().workflowId, ++run.chunks, first, last);
  const start = (targets: JobTargets, workflowId: string, fairnessKey?: string) => {
    // Temporal's task queue fairness shares the workers between the keys too, where the server has it on.
    const priority = temporalFairness(fairnessKey);
    if (input.granularity === 'per-chunk')
      return executeChild(chunkJobWorkflow, { workflowId, args: [chunk(targets)], typedSearchAttributes: attributes, ...priority });
    // Only chunks are staged.
    if (!Array.isArray(targets)) throw new Error(`a ${input.granularity} job got a staged chunk`);
    return executeChild(jobWorkflow, {
      workflowId,
      args: [{ ...job, target: targets[0] }],
      typedSearchAttributes: [...attributes, { key: searchAttributes.targetKey, value: searchValue(targets[0].key) }],
      ...priority,
    });
  };
  return async (targets, fairnessKey) => {
    // A bulk chunk is an activity of the trigger's own: no workflow ID, nothing to collide with.
    if (input.granularity === 'bulk') {
      return runChunk(chunk(targets)).then(
        (result) => ({ status: 'completed', result }),
        (err) => endOf(err),
      );
    }
    const workflowId = idOf(...keyRangeOf(targets));
    try {
      return { status: 'completed', result: await start(targets, workflowId, fairnessKey) };
    } catch (err) {
      if (isCancellation(err) || !(err instanceof WorkflowExecutionAlreadyStartedError)) return endOf(err);
      return awaitJob({ workflowId });
    }
  };
}

/** Temporal takes fairness keys of up to 64 bytes: a longer (or non-ASCII) key is tju's alone. */
function temporalFairness(fairnessKey?: string): { priority?: { fairnessKey: string } } {
  return fairnessKey && /^[\x20-\x7e]{1,64}$/.test(fairnessKey) ? { priority: { fairnessKey } } : {};
}
