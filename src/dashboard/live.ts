// What the dashboard asks Temporal: a running trigger's live counts, its partitions, the schedules.
import type { Client } from '@temporalio/client';
import { isNotFound } from '../util/lazy';
import type { TjuClient } from '../temporal/client';
import { TjuSchedules, type ScheduleSummary } from '../temporal/schedules';
import type { Batch } from '../batch';
import { isUnreadablePayload, unreadableNote } from '../codec';
import { partitionWorkflowId } from '../contracts/ids';
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

/** A partitioned trigger's partitions (`<trigger>/~p<i>`), with live counts for those running. */
export async function partitionsOf(client: Client, tju: TjuClient, workflowId: string, max = 64): Promise<PartitionLive[]> {
  const found: PartitionLive[] = [];
  for (let i = 0; i < max; i++) {
    const id = partitionWorkflowId(workflowId, i);
    const handle = client.workflow.getHandle(id);
    let state: string;
    try {
      state = (await handle.describe()).status.name;
    } catch (err) {
      if (isNotFound(err)) break;
      throw err;
    }
    const progress = state === 'RUNNING' ? await withTimeout(handle.query(progressQuery), QUERY_MS).catch(() => undefined) : undefined;
    found.push({ workflowId: id, state, ...(progress ? { progress } : {}), uiUrl: tju.link(id) });
  }
  return found;
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
