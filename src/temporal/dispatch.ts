import type { Client, WorkflowHandle } from '@temporalio/client';
import { ENGINE } from '../contracts/types';
import type { JobInput, JobResult, Target } from '../contracts/types';
import { jobWorkflowId, runSearchAttributes, searchAttributes, searchValue } from '../contracts/ids';
import { jobSettings, type ResolvedRun } from '../plan';
import { checkTargetRows } from '../targets';
import { isAlreadyStarted } from '../util/lazy';
import { priorityOption } from './startTrigger';

/** One target's job, started now: what `TjuClient.dispatch` returns. */
export interface DispatchedJob {
  workflowId: string;
  /** The job's outcome once it ends; rejects when the job gave up on the target (its failure is recorded). */
  result(): Promise<JobResult>;
}

/**
 * Starts one target's job at once, as the run of its key would: the same job workflow, ID
 * (`<batch>/<runKey>/<targetKey>`), settings and ledger. A job of that ID that is running, or that succeeded,
 * is joined instead (a second call acts once); one that failed is started again, as a retry would.
 */
export async function dispatchTarget(client: Client, run: ResolvedRun, row: unknown, taskQueue: string): Promise<DispatchedJob> {
  const [target] = checkTargetRows(run.batch.name, [row], null) as [Target];
  const input: JobInput = {
    engine: ENGINE,
    batch: run.batch.name,
    runKey: run.runKey,
    params: run.params,
    settings: jobSettings(run.batch),
    target,
  };
  const workflowId = jobWorkflowId(run.batch.name, run.runKey, target.key);
  let handle: WorkflowHandle;
  try {
    handle = await client.workflow.start('jobWorkflow', {
      workflowId,
      taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      typedSearchAttributes: [
        ...runSearchAttributes(run.batch.name, run.runKey),
        { key: searchAttributes.targetKey, value: searchValue(target.key) },
      ],
      ...priorityOption(run.batch.priority),
    });
  } catch (err) {
    if (!isAlreadyStarted(err)) throw err;
    handle = client.workflow.getHandle(workflowId); // it succeeded earlier: its result is the answer
  }
  return { workflowId, result: () => handle.result() as Promise<JobResult> };
}
