import { jobWorkflowId } from '../../src/contracts/ids';
import { ENGINE, type JobInput } from '../../src/contracts/types';
import { buildTriggerInput, type ResolvedRun } from '../../src/plan';
import type { Harness } from './harness';

/**
 * Starts one target's per-target job as another trigger of the run would (a retry beside a re-run, a reset
 * trigger): under the run's job ID, with the input the plan gives it.
 */
export async function startJobOfAnotherTrigger(h: Harness, run: ResolvedRun, targetKey: string): Promise<void> {
  const input: JobInput = {
    engine: ENGINE,
    batch: run.batch.name,
    runKey: run.runKey,
    params: run.params,
    target: { key: targetKey },
    settings: buildTriggerInput(run).job,
  };
  await h.client.workflow.start('jobWorkflow', {
    workflowId: jobWorkflowId(run.batch.name, run.runKey, targetKey),
    taskQueue: h.taskQueue,
    args: [input],
  });
}
