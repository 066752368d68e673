import type { Client, WorkflowHandle } from '@temporalio/client';
import { isNotFound, protos } from '../util/lazy';
import { pollersOf, timestampMs } from './pollers';
import { isUnreadablePayload, unreadableNote } from '../codec';
import { UserError } from '../errors';
import { retryWorkflowId, triggerWorkflowId, visibilityLiteral } from '../contracts/ids';
import { cancelSignal, pauseSignal, progressQuery, resumeSignal, type CancelRequest } from '../contracts/controls';
import type { RunProgress, RunSummary, TriggerWorkflow } from '../contracts/types';
import { noWorkerNote, type RunStatus } from './runStatus';

/** How long a query may wait for a worker to answer before a command gives up on live counts. */
const QUERY_DEADLINE_MS = 5000;

/** One run of one batch, identified by its run key. */
/** One execution of a run's trigger, as visibility and describe() know it. */
interface Execution {
  runId: string;
  state: string;
  startTime: Date;
  /** Worker Versioning: the deployment version (`<deployment>:<build>`) the execution is pinned to. */
  build?: string;
}

export class RunHandle {
  constructor(
    readonly batch: string,
    readonly runKey: string,
    readonly workflowId: string,
    /** The execution this handle started or joined; unset: the latest under the workflow ID. */
    readonly runId: string | undefined,
    readonly taskQueue: string,
    private readonly client: Client,
    /** The Web UI's page of an execution of this run, when the UI's address is known. */
    private readonly link: (runId?: string) => string | undefined,
  ) {
    this.handle = client.workflow.getHandle<TriggerWorkflow>(workflowId);
  }

  /** The latest execution under the workflow ID: the one that answers queries while the run continues as new. */
  private readonly handle: WorkflowHandle<TriggerWorkflow>;

  /** The Web UI's page of the execution this handle names (the latest one when it names none). */
  get uiUrl(): string | undefined {
    return this.link(this.runId);
  }

  /** Live counts; a partitioned run adds those of its partitions still running. */
  progress(): Promise<RunProgress> {
    return this.progressOf(this.workflowId);
  }

  /** Live counts of one trigger of this run (the run's own, or its retry's). */
  async progressOf(workflowId: string): Promise<RunProgress> {
    const progress = await this.client.workflow.getHandle<TriggerWorkflow>(workflowId).query(progressQuery);
    for (const workflowId of progress.runningPartitions ?? []) {
      const part = await this.client.workflow
        .getHandle<TriggerWorkflow>(workflowId)
        .query(progressQuery)
        .catch(() => undefined);
      if (!part) continue;
      for (const key of ['total', 'succeeded', 'failed', 'skipped', 'inFlight'] as const) progress[key] += part[key];
    }
    return progress;
  }

  /** The summary of the run this handle started (following its continue-as-new chain), or of the latest. */
  result(): Promise<RunSummary> {
    return this.client.workflow.getHandle<TriggerWorkflow>(this.workflowId, this.runId).result();
  }

  /** The summary of one trigger of this run key (the run's, or its retry's), once it ends. */
  resultOf(workflowId: string): Promise<RunSummary> {
    return workflowId === this.workflowId ? this.result() : this.client.workflow.getHandle<TriggerWorkflow>(workflowId).result();
  }

  /** Temporal's status of this run (RUNNING, COMPLETED, ...), or undefined if there is none. */
  state(): Promise<string | undefined> {
    return stateOf(this.handle);
  }

  /**
   * What holds a running trigger up, from Temporal's view of it (and of the partitions named): its next
   * workflow task waiting for a worker — no worker polls the task queue, or none has for a while — or an
   * activity being retried (its target query failing, say) with its attempt and last error.
   */
  async problems(partitions: string[] = [], own = true): Promise<string[]> {
    const ids = own ? [this.workflowId, ...partitions] : partitions;
    const found = await Promise.all(ids.map((workflowId) => this.problemsOf(workflowId)));
    return [...new Set(found.flat())];
  }

  private async problemsOf(workflowId: string): Promise<string[]> {
    const problems: string[] = [];
    const described = await this.client.workflow
      .getHandle(workflowId)
      .describe()
      .catch(() => undefined);
    const task = described?.raw.pendingWorkflowTask;
    const waited = task?.scheduledTime ? Date.now() - timestampMs(task.scheduledTime) : 0;
    if (task?.state === protos().api.enums.v1.PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_SCHEDULED && waited > NO_WORKER_MS) {
      problems.push(await this.waitingForWorker(waited));
    }
    for (const activity of described?.raw.pendingActivities ?? []) {
      if ((activity.attempt ?? 0) < 2 || !activity.lastFailure) continue;
      const what = ACTIVITY_PROBLEMS[activity.activityType?.name ?? ''] ?? `${activity.activityType?.name} failing`;
      problems.push(`${what} (attempt ${activity.attempt}): ${activity.lastFailure.message}`);
    }
    return problems;
  }

  /** Why a task waits: no worker polls its queue, or the last poll was long ago. */
  private async waitingForWorker(waitedMs: number): Promise<string> {
    const pollers = await this.pollers().catch(() => []);
    const waited = `its next task has waited ${Math.round(waitedMs / 1000)} s`;
    if (pollers.length === 0) return `${noWorkerNote(this.taskQueue)} (${waited})`;
    const last = Math.max(...pollers.map((poller) => poller.lastPollMs));
    const ago = Math.round((Date.now() - last) / 1000);
    return `${waited} for a worker of task queue '${this.taskQueue}', whose last poll was ${ago} s ago: is \`npx tju worker\` running?`;
  }

  private pollers() {
    return pollersOf(this.client, this.taskQueue, 'workflow');
  }

  /** True when a worker has polled the run's task queue lately: without one, a run waits and queries hang. */
  async workerPolling(): Promise<boolean> {
    return (await this.pollers()).length > 0;
  }

  /**
   * The run key's status: its first run (what a run key means to a person: the full run), with later
   * runs of the same key listed as re-runs. A running one shows live counts when a worker answers.
   */
  async status(): Promise<RunStatus> {
    const executions = await this.executions();
    if (executions.length === 0) {
      throw new UserError(`no run of ${this.batch} for ${this.runKey} (workflow ${this.workflowId})`);
    }
    const [first, ...later] = await Promise.all(executions.map((e) => this.statusOf(e)));
    return { ...first, reruns: later };
  }

  /** The executions under this workflow ID that ended a chain or still run, oldest first. */
  private async executions(): Promise<Execution[]> {
    const found = new Map<string, Execution>();
    const query = `WorkflowId = ${visibilityLiteral(this.workflowId)} AND ExecutionStatus != 'ContinuedAsNew'`;
    for await (const wf of this.client.workflow.list({ query })) {
      const build = wf.searchAttributes?.TemporalWorkerDeploymentVersion?.[0];
      found.set(wf.runId, { runId: wf.runId, state: wf.status.name, startTime: wf.startTime, ...(build ? { build: String(build) } : {}) });
    }
    // Visibility lags a little behind a start; the latest execution is always known to describe().
    try {
      const latest = await this.client.workflow.getHandle(this.workflowId).describe();
      if (latest.status.name !== 'CONTINUED_AS_NEW') {
        const version = latest.raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion;
        const build = version?.buildId ? { build: `${version.deploymentName}:${version.buildId}` } : {};
        found.set(latest.runId, { runId: latest.runId, state: latest.status.name, startTime: latest.startTime, ...build });
      }
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    return [...found.values()].sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  }

  /** One execution's status: its summary when completed, live counts (or why there are none) while running. */
  async statusOf({ runId, state, startTime, build }: Execution): Promise<RunStatus> {
    const base = {
      batch: this.batch,
      runKey: this.runKey,
      workflowId: this.workflowId,
      runId,
      state,
      startTime,
      uiUrl: this.link(runId),
      ...(build && state === 'RUNNING' ? { build } : {}),
    };
    if (state === 'COMPLETED') {
      try {
        return { ...base, counts: await this.client.workflow.getHandle<TriggerWorkflow>(this.workflowId, runId).result() };
      } catch (err) {
        // Encrypted, and this process has not the key: show what can be shown.
        if (!isUnreadablePayload(err)) throw err;
        return { ...base, note: unreadableNote(err) };
      }
    }
    if (state !== 'RUNNING') return base;
    // No worker at all: say so at once, rather than wait for a query nobody answers.
    if (!(await this.workerPolling())) return { ...base, note: noWorkerNote(this.taskQueue) };
    const problems = await this.problems();
    const said = problems.length ? { problems } : {};
    let counts: RunProgress;
    try {
      counts = await this.client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => this.progress());
    } catch (err) {
      if (isUnreadablePayload(err)) return { ...base, ...said, note: unreadableNote(err) };
      if (problems.length) return { ...base, ...said };
      return { ...base, note: `its worker did not answer within ${QUERY_DEADLINE_MS / 1000}s; is \`npx tju worker\` running?` };
    }
    const partitions = counts.runningPartitions?.length ? await this.problems(counts.runningPartitions, false) : [];
    return { ...base, counts, ...(problems.length + partitions.length ? { problems: [...problems, ...partitions] } : {}) };
  }

  /**
   * Stops dispatching new jobs (jobs in flight finish); the run stays open until resumed or cancelled.
   * Resolves with the triggers it reached: the run's, and its retry's when one is running.
   */
  pause(): Promise<string[]> {
    return this.control((handle) => handle.signal(pauseSignal));
  }

  /** Continues a paused run from its cursor. */
  resume(): Promise<string[]> {
    return this.control((handle) => handle.signal(resumeSignal));
  }

  /**
   * Stops dispatching and ends the run with its summary, `stopped: { state: 'cancelled' }`. In-flight jobs
   * finish, or with `now` are cancelled too. Resolves once the signal is delivered; `result()` waits for the end.
   */
  cancel(request: CancelRequest = {}): Promise<string[]> {
    return this.control((handle) => handle.signal(cancelSignal, request));
  }

  /**
   * Signals every running trigger of the run key — the run's own, and a retry of its failures — each at its
   * latest execution (across continue-as-new).
   */
  private async control(send: (handle: WorkflowHandle<TriggerWorkflow>) => Promise<void>): Promise<string[]> {
    const ids = [...new Set([this.workflowId, triggerWorkflowId(this.batch, this.runKey), retryWorkflowId(this.batch, this.runKey)])];
    const states = await Promise.all(ids.map((id) => stateOf(this.client.workflow.getHandle(id))));
    const running = ids.filter((_, i) => states[i] === 'RUNNING');
    if (running.length === 0) {
      const state = states[0];
      throw new UserError(
        state ? `${this.workflowId} is not running (${state})` : `no run of ${this.batch} for ${this.runKey} (workflow ${this.workflowId})`,
      );
    }
    await Promise.all(running.map((id) => send(this.client.workflow.getHandle<TriggerWorkflow>(id))));
    return running;
  }

  /** Resolves with the summary when the run ends, reporting progress every `intervalMs` meanwhile. */
  async wait(onProgress?: (progress: RunProgress) => void, intervalMs = 500): Promise<RunSummary> {
    let finished = false;
    const result = this.result().finally(() => (finished = true));
    while (onProgress && !finished) {
      await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, intervalMs))]);
      // A query can miss while the run continues as new; the next tick catches up.
      const progress = finished ? undefined : await this.progress().catch(() => undefined);
      if (progress) onProgress(progress);
    }
    return result;
  }
}

/** Temporal's status of a workflow's latest execution, or undefined if there is none. */
export async function stateOf(handle: WorkflowHandle): Promise<string | undefined> {
  try {
    return (await handle.describe()).status.name;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** How long a run's next workflow task may wait before `status` and `--wait` say no worker takes it. */
const NO_WORKER_MS = 5000;

/** What a trigger's retried activity means to a person. */
const ACTIVITY_PROBLEMS: Record<string, string> = {
  fetchTargets: 'target query failing',
  partitionKeys: 'partition keys query failing',
  recordRun: 'writing the run history failing',
  awaitJob: 'waiting for a job another trigger started',
};
