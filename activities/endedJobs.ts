import { Context } from '@temporalio/activity';
import type { JobEnded, JobResult } from '../workflows/types';

/**
 * How the per-target jobs a trigger carried over from its previous run have ended, read from Temporal with
 * the worker's client (a child's result reaches only the run that started it). Jobs still running are left
 * out; one terminated or timed out by hand counts as failed.
 */
export async function endedJobs(workflowIds: string[]): Promise<JobEnded[]> {
  const { client } = Context.current();
  const ended: JobEnded[] = [];
  for (const workflowId of workflowIds) {
    const handle = client.workflow.getHandle(workflowId);
    const { status } = await handle.describe();
    if (status.name === 'RUNNING') continue;
    if (status.name === 'COMPLETED') {
      ended.push({ workflowId, ...((await handle.result()) as JobResult) });
    } else if (status.name === 'CANCELLED') {
      ended.push({ workflowId, outcome: 'cancelled' });
    } else {
      // A failed job's chain steps so far are in its failure's details.
      const failure = await handle.result().then(
        () => undefined,
        (err: { cause?: { details?: unknown[] } }) => err,
      );
      const steps = failure?.cause?.details?.[1] as JobEnded['steps'];
      ended.push({ workflowId, outcome: 'failed', ...(steps ? { steps } : {}) });
    }
  }
  return ended;
}
