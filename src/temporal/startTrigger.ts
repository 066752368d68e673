import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { UserError } from '../errors';
import { runSearchAttributes } from '../contracts/ids';
import type { TriggerInput, TriggerWorkflow } from '../contracts/types';
import { ensureSearchAttributes } from './searchAttributes';

export interface TriggerStart {
  workflowId: string;
  taskQueue: string;
  input: TriggerInput;
  batch: string;
  runKey: string;
  /** The batch's task queue priority (1 first, 5 last), inherited by every job and unit of the run. */
  priority?: number;
}

/** A start's priority option: a batch's priority (1 first, 5 last), or none for the server's default (3). */
export const priorityOption = (priority?: number) => (priority ? { priority: { priorityKey: priority } } : {});

/** How often, and how far apart, a start is tried again while a server's cache learns tju's search attributes. */
const MAPPING_TRIES = 40;
const MAPPING_WAIT_MS = 500;

/**
 * Starts a trigger workflow, or joins the one running under its workflow ID: the run key names the workflow, so
 * concurrent triggers of one run share it.
 */
export async function startTrigger(
  client: Client,
  { workflowId, taskQueue, input, batch, runKey, priority }: TriggerStart,
): Promise<WorkflowHandleWithFirstExecutionRunId<TriggerWorkflow>> {
  const start = () =>
    client.workflow.start<TriggerWorkflow>('triggerWorkflow', {
      workflowId,
      taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      typedSearchAttributes: runSearchAttributes(batch, runKey),
      ...priorityOption(priority),
    });
  try {
    return await start();
  } catch (err) {
    // A server no worker has met yet (a fresh dev server) lacks tju's search attributes: register them, and
    // start again once the server's cache has them (a few seconds).
    if (!lacksSearchAttributes(err)) throw err;
  }
  await ensureSearchAttributes(client.connection, client.options.namespace).catch((cause: Error) => {
    throw new UserError(`Temporal has no search attribute TjuBatch, and registering it failed (${cause.message}): start a worker once`);
  });
  for (let tries = 1; ; tries++) {
    try {
      return await start();
    } catch (err) {
      if (!lacksSearchAttributes(err) || tries >= MAPPING_TRIES) throw err;
      await new Promise((resolve) => setTimeout(resolve, MAPPING_WAIT_MS));
    }
  }
}

/** The server's refusal of a start that names a search attribute it has no mapping for, anywhere in the causes. */
function lacksSearchAttributes(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) if (/no mapping defined for search attribute Tju/.test(e.message)) return true;
  return false;
}
