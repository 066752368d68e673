import { Worker } from '@temporalio/worker';
import { installRuntime } from '../../src/temporal/runtime';
import { metricSinks } from '../../src/temporal/metrics';
import type { Harness } from './harness';

/** Replays the history of every workflow of a type on the harness's task queue against today's workflow code. */
export async function replayAll(h: Harness, workflowType: string): Promise<{ replayed: number; errors: string[] }> {
  installRuntime(); // the replayer's worker logs through tju's logger (errors only, in tests)
  const histories = [];
  const query = `WorkflowType = '${workflowType}' AND TaskQueue = '${h.taskQueue}'`;
  for await (const wf of h.client.workflow.list({ query })) {
    histories.push({ workflowId: wf.workflowId, history: await h.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory() });
  }
  const errors: string[] = [];
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: { codePath: process.env.TJU_TEST_WORKFLOW_BUNDLE! }, sinks: metricSinks() }, // as a worker has them
    histories,
  )) {
    if (result.error) errors.push(`${result.workflowId}: ${result.error.message}`);
  }
  return { replayed: histories.length, errors };
}
