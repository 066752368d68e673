import type { RunRecord } from '../db/runHistory';
import type { HookProblem } from '../hooks/outbox';
import type { RunProgress, RunSummary } from '../contracts/types';

/** What to tell a person whose run waits for a worker. */
export const noWorkerNote = (taskQueue: string) => `no worker is polling task queue '${taskQueue}': start \`npx tju worker\``;

export interface RunStatus {
  batch: string;
  runKey: string;
  workflowId: string;
  runId?: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, TERMINATED, ... */
  state: string;
  startTime?: Date;
  counts?: RunSummary | RunProgress;
  uiUrl?: string;
  /** Worker Versioning: the deployment version a running run is pinned to (`<deployment>:<build>`). */
  build?: string;
  /** Why live counts are missing (no worker polling, a worker not answering). */
  note?: string;
  /** What holds a running run up: an activity being retried, with its last error. */
  problems?: string[];
  /** The run's hook calls not delivered: still retrying, or given up. */
  hooks?: HookProblem[];
  /** Later runs of the same run key (re-runs), oldest first. */
  reruns?: RunStatus[];
  /** Read from tju's run history in PostgreSQL (every start has ended there, or Temporal no longer has the run). */
  fromHistory?: boolean;
  finishTime?: Date;
}

/** A run history row as a status: states in Temporal's spelling, so both read alike. */
export function statusFromRecord(record: RunRecord): RunStatus {
  const ended = record.finishedAt !== null;
  return {
    batch: record.batch,
    runKey: record.runKey,
    workflowId: record.workflowId,
    runId: record.executionId,
    state: record.state.toUpperCase(),
    startTime: record.startedAt,
    ...(ended ? { finishTime: record.finishedAt! } : {}),
    ...(record.counts ? { counts: { ...record.counts, ...(ended ? {} : { inFlight: 0 }) } as RunSummary } : {}),
    ...(ended ? {} : { note: 'Temporal no longer has this run and its end was never recorded (terminated?)' }),
    ...(record.problem && !ended ? { problems: [record.problem] } : {}),
    fromHistory: true,
  };
}

/** Temporal's name for how a recorded run ended: a run tju cancelled completes (its summary says it stopped). */
const TEMPORAL_STATE: Record<string, string> = { completed: 'COMPLETED', cancelled: 'COMPLETED', failed: 'FAILED' };

/**
 * The run key's status as the run history has it, when every start of its trigger has ended there: what
 * `tju status` says without asking Temporal (each start's row is written by the client that started it, and
 * its end by the trigger itself). Undefined while any start is open, or none is recorded.
 */
export function finishedStatus(
  records: RunRecord[],
  workflowId: string,
  link: (runId: string) => string | undefined,
): RunStatus | undefined {
  const starts = records.filter((record) => record.workflowId === workflowId).reverse();
  if (starts.length === 0 || starts.some((record) => record.finishedAt === null || !TEMPORAL_STATE[record.state])) return undefined;
  const [first, ...later] = starts.map((record): RunStatus => ({
    ...statusFromRecord(record),
    state: TEMPORAL_STATE[record.state],
    uiUrl: link(record.executionId),
  }));
  return { ...first, reruns: later };
}
