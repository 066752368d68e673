import { executeChild, workflowInfo } from '@temporalio/workflow';
import { partitionWorkflowId, runSearchAttributes } from '../../src/contracts/ids';
import type { TriggerWorkflow } from '../../src/contracts/types';
import type { RunState } from './state';

/**
 * A partitioned run: key ranges between the split keys, each a trigger of its own (a child), run side by side;
 * this run adds up their summaries as they finish. Each partition applies the controls and the threshold to
 * its own range.
 */
export async function runPartitions(run: RunState, splitKeys: string[]): Promise<void> {
  const { input } = run;
  // From the cursor: past a canary's targets when the run had one, else the run's own start.
  const bounds = [run.cursor, ...splitKeys, input.upTo ?? null];
  await Promise.all(
    bounds.slice(0, -1).map(async (after, i) => {
      const trigger = workflowInfo().workflowId;
      const workflowId = partitionWorkflowId(trigger, i);
      run.runningPartitions.add(workflowId);
      const part = await executeChild<TriggerWorkflow>('triggerWorkflow', {
        workflowId,
        args: [{ ...input, partitions: 1, partition: i, after, upTo: bounds[i + 1] }],
        typedSearchAttributes: runSearchAttributes(input.batch, input.runKey),
      });
      run.runningPartitions.delete(workflowId);
      run.counts.total += part.total;
      run.tally(part);
      if (part.stopped) run.stop(part.stopped);
    }),
  );
}
