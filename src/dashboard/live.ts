// What the dashboard asks Temporal: a running trigger's live counts, its partitions, the schedules.
import type { Client } from '@temporalio/client';
import type { TjuClient } from '../temporal/client';
import { TjuSchedules, type ScheduleSummary } from '../temporal/schedules';
import type { Batch } from '../batch';
import { isUnreadablePayload, unreadableNote } from '../codec';
import { partitionWorkflowId, searchValue, visibilityLiteral } from '../contracts/ids';
import { progressQuery } from '../contracts/controls';
import type { RunProgress } from '../contracts/types';
import type { RunRow } from './data';

/** How long a page waits for a worker to answer a progress query before it shows the recorded counts. */
const QUERY_MS = 1500;

export interface Live {
  progress?: RunProgress;
  /** Why there are no live counts (no worker answered, the payload cannot be decrypted here). */
  note?: string;
}

const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T> =>
  Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms).unref()),
  ]);

/** Live counts of each running or paused start among `rows`, asked at once. */
export async function liveProgress(tju: TjuClient, rows: RunRow[]): Promise<Map<RunRow, Live>> {
  const live = new Map<RunRow, Live>();
  await Promise.all(
    rows
      .filter((row) => row.state === 'running' || row.state === 'paused')
      .map(async (row) => {
        try {
          const handle = tju.handleFor(row.batch, row.runKey, row.workflowId);
          live.set(row, { progress: await withTimeout(handle.progressOf(row.workflowId), QUERY_MS) });
        } catch (err) {
          live.set(row, { note: isUnreadablePayload(err) ? unreadableNote(err) : `no live counts: ${(err as Error).message}` });
        }
      }),
  );
  return live;
}

export interface PartitionLive {
  workflowId: string;
  state: string;
  progress?: RunProgress;
  uiUrl?: string;
}

/**
 * A partitioned trigger's partitions (`<trigger>/~p<i>`), with live counts for those running: one visibility list
 * of the run key's triggers, then the running ones' queries at once.
 */
export async function partitionsOf(client: Client, tju: TjuClient, run: RunRow): Promise<PartitionLive[]> {
  const query =
    `WorkflowType = 'triggerWorkflow' AND TjuBatch = ${visibilityLiteral(searchValue(run.batch))}` +
    ` AND TjuRunKey = ${visibilityLiteral(searchValue(run.runKey))} AND ExecutionStatus != 'ContinuedAsNew'`;
  const partitions = new Map<number, { workflowId: string; state: string }>();
  for await (const wf of client.workflow.list({ query })) {
    const index = partitionIndex(run.workflowId, wf.workflowId);
    if (index !== undefined) partitions.set(index, { workflowId: wf.workflowId, state: wf.status.name });
  }
  const ordered = [...partitions.entries()].sort(([a], [b]) => a - b).map(([, p]) => p);
  return Promise.all(
    ordered.map(async ({ workflowId, state }) => {
      const progress =
        state === 'RUNNING'
          ? await withTimeout(client.workflow.getHandle(workflowId).query(progressQuery), QUERY_MS).catch(() => undefined)
          : undefined;
      return { workflowId, state, ...(progress ? { progress } : {}), uiUrl: tju.link(workflowId) };
    }),
  );
}

/** The index of a partition of `triggerId` named `workflowId`, or undefined when it is not one. */
function partitionIndex(triggerId: string, workflowId: string): number | undefined {
  const prefix = partitionWorkflowId(triggerId, 0).slice(0, -1);
  if (!workflowId.startsWith(prefix)) return undefined;
  const rest = workflowId.slice(prefix.length);
  return /^\d+$/.test(rest) ? Number(rest) : undefined;
}

/** Each batch's schedule, or why it cannot be read (not applied yet). */
export async function schedulesOf(
  client: Client,
  batches: readonly Batch[],
  taskQueue: string,
): Promise<Array<{ batch: string; summary?: ScheduleSummary; problem?: string }>> {
  const schedules = new TjuSchedules(client, batches, taskQueue);
  return Promise.all(
    batches
      .filter((batch) => batch.schedule)
      .map(async (batch) => {
        try {
          return { batch: batch.name, summary: await schedules.describe(batch.name) };
        } catch (err) {
          return {
            batch: batch.name,
            problem: /not found/i.test((err as Error).message) ? 'not applied: run `npx tju schedule apply`' : (err as Error).message,
          };
        }
      }),
  );
}
