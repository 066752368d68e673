import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { HEARTBEAT_THROTTLE_MS } from '../src/temporal/worker';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const EventType = temporal.api.enums.v1.EventType;

/**
 * What Temporal Cloud bills as Actions, read from history events (https://docs.temporal.io/cloud/actions):
 * a workflow start (client start or continue-as-new), a child workflow (two: its start and its execution),
 * every activity attempt, the local-activity markers of one workflow task (one for all of them), a timer, a
 * signal, a search-attribute upsert. Activity heartbeats that reach the server are billed too but are not in
 * history: they are estimated from each activity's duration and the worker's throttle (one per 0.8 × heartbeat
 * timeout or per `HEARTBEAT_THROTTLE_MS`, whichever is shorter, and the first).
 */
export interface Actions {
  workflowStarts: number;
  childWorkflows: number;
  activityAttempts: number;
  localActivityTasks: number;
  timers: number;
  signals: number;
  searchAttributeUpserts: number;
  heartbeatsEstimated: number;
}

export interface HistoryCost {
  /** Workflow executions (runs) of the mode, by type. */
  executions: Record<string, number>;
  /** Histories fetched to count actions: all, or an even sample of a type with many. */
  fetched: number;
  events: number;
  /** Bytes of history stored, every run together (as visibility reports each). */
  historyBytes: number;
  actions: Actions;
}

const emptyActions = (): Actions => ({
  workflowStarts: 0,
  childWorkflows: 0,
  activityAttempts: 0,
  localActivityTasks: 0,
  timers: 0,
  signals: 0,
  searchAttributeUpserts: 0,
  heartbeatsEstimated: 0,
});

const durationMs = (d?: { seconds?: unknown; nanos?: number | null } | null) =>
  d ? Number(d.seconds ?? 0) * 1000 + (d.nanos ?? 0) / 1e6 : 0;

/** The actions one history's events stand for. */
export function actionsOf(events: HistoryEvent[]): Actions {
  const a = emptyActions();
  const heartbeatTimeoutMs = new Map<number, number>();
  const startedAt = new Map<number, number>();
  let markersThisTask = false;
  for (const e of events) {
    const id = Number(e.eventId);
    switch (e.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: {
        const started = e.workflowExecutionStartedEventAttributes!;
        // A child's first run is billed with its parent's start command, below; its continued runs are not.
        if (!started.parentWorkflowExecution || started.continuedExecutionRunId) a.workflowStarts++;
        break;
      }
      case EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        a.childWorkflows += 2;
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        heartbeatTimeoutMs.set(id, durationMs(e.activityTaskScheduledEventAttributes!.heartbeatTimeout));
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
        // Written once, for the last attempt: earlier attempts were each started and billed too.
        a.activityAttempts += e.activityTaskStartedEventAttributes!.attempt ?? 1;
        startedAt.set(id, tsToMs(e.eventTime));
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED: {
        const ended =
          e.activityTaskCompletedEventAttributes ??
          e.activityTaskFailedEventAttributes ??
          e.activityTaskTimedOutEventAttributes ??
          e.activityTaskCanceledEventAttributes!;
        const timeout = heartbeatTimeoutMs.get(Number(ended.scheduledEventId)) ?? 0;
        const started = startedAt.get(Number(ended.startedEventId));
        if (timeout > 0 && started !== undefined) {
          a.heartbeatsEstimated += 1 + Math.floor((tsToMs(e.eventTime) - started) / Math.min(0.8 * timeout, HEARTBEAT_THROTTLE_MS));
        }
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        markersThisTask = false;
        break;
      case EventType.EVENT_TYPE_MARKER_RECORDED:
        if (!markersThisTask) a.localActivityTasks++;
        markersThisTask = true;
        break;
      case EventType.EVENT_TYPE_TIMER_STARTED:
        a.timers++;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        a.signals++;
        break;
      case EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
        a.searchAttributeUpserts++;
        break;
    }
  }
  return a;
}

export const totalActions = (a: Actions): number => Object.values(a).reduce((sum, n) => sum + n, 0);

/**
 * Events and actions of every workflow run on `taskQueue`. Event counts come from visibility (every run's
 * history length); actions from fetched histories — all of a type's runs up to `sampleSize`, else an even
 * sample of that many, scaled up.
 */
export async function historyCost(client: Client, taskQueue: string, sampleSize = 1000): Promise<HistoryCost> {
  const runs = new Map<string, Array<{ workflowId: string; runId: string }>>();
  let events = 0;
  let historyBytes = 0;
  for await (const wf of client.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) {
    events += wf.historyLength;
    historyBytes += wf.historySize ?? 0;
    const ofType = runs.get(wf.type) ?? [];
    ofType.push({ workflowId: wf.workflowId, runId: wf.runId });
    runs.set(wf.type, ofType);
  }
  const actions = emptyActions();
  let fetched = 0;
  for (const list of runs.values()) {
    const step = Math.max(1, list.length / sampleSize);
    const sample = Array.from({ length: Math.min(list.length, sampleSize) }, (_, i) => list[Math.floor(i * step)]);
    const sum = emptyActions();
    await inParallel(sample, 16, async ({ workflowId, runId }) => {
      const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
      const one = actionsOf(history.events ?? []);
      for (const key of Object.keys(sum) as Array<keyof Actions>) sum[key] += one[key];
    });
    fetched += sample.length;
    for (const key of Object.keys(sum) as Array<keyof Actions>) actions[key] += (sum[key] * list.length) / sample.length;
  }
  const executions = Object.fromEntries([...runs].map(([type, list]) => [type, list.length]));
  return { executions, fetched, events, historyBytes, actions };
}

async function inParallel<T>(items: T[], lanes: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(lanes, items.length) }, lane));
}
