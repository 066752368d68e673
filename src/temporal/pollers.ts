import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { protos } from '../util/lazy';

export type QueueKind = 'workflow' | 'activity';

export interface Poller {
  /** The SDK's worker identity: `<pid>@<hostname>` unless the worker sets its own. */
  identity: string;
  /** When the worker last asked for a task (ms since the epoch). */
  lastPollMs: number;
}

const typeOf = (kind: QueueKind): temporal.api.enums.v1.TaskQueueType =>
  kind === 'workflow'
    ? protos().api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW
    : protos().api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY;

export const timestampMs = (t: { seconds?: unknown; nanos?: number | null }): number =>
  Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);

/**
 * The workers that polled a task queue lately, as Temporal's DescribeTaskQueue lists them. The server keeps a
 * poller listed for minutes after its last poll, so callers judge freshness by `lastPollMs`.
 */
export async function pollersOf(client: Client, taskQueue: string, kind: QueueKind): Promise<Poller[]> {
  const { pollers } = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: typeOf(kind),
  });
  return (pollers ?? []).map((poller) => ({
    identity: poller.identity ?? '',
    lastPollMs: poller.lastAccessTime ? timestampMs(poller.lastAccessTime) : 0,
  }));
}
