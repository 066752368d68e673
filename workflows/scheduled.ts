import { SearchAttributeType, defineSearchAttributeKey, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { executeChild, log, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { runSearchAttributes } from '../src/contracts/ids';
import { triggerWorkflow } from './trigger';
import type { RunSummary } from '../src/contracts/types';

/** Set by Temporal Schedules on each workflow they start: its nominal time, also in backfills. */
const SCHEDULED_START_TIME = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

const { planScheduledRun } = proxyLocalActivities<Activities>({ startToCloseTimeout: '30s' });

/**
 * What a batch's Temporal Schedule starts. Derives the run from the *scheduled* time — a late, caught-up or
 * backfilled start bills the date it was meant for — and runs that run's trigger as a child under its usual
 * ID `<batch>/<runKey>`, so a manual trigger of the same run and this one never run side by side.
 */
export async function scheduledRunWorkflow(input: { batch: string }): Promise<RunSummary | undefined> {
  const info = workflowInfo();
  const scheduledAt = info.typedSearchAttributes.get(SCHEDULED_START_TIME) ?? info.startTime;
  const plan = await planScheduledRun({ batch: input.batch, scheduledAt: scheduledAt.toISOString() });
  try {
    return await executeChild(triggerWorkflow, {
      workflowId: plan.workflowId,
      args: [plan.input],
      typedSearchAttributes: runSearchAttributes(plan.input.batch, plan.input.runKey),
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    log.info('the run was already going, started by hand', { workflowId: plan.workflowId });
    return undefined;
  }
}
