import type { Client, WorkflowHandle } from '@temporalio/client';
import { isNotFound, protos } from '../util/lazy';
import type { Pool } from 'pg';
import { listRunRecords, type RunRecord } from '../db/runHistory';
import { hookProblems, type HookProblem } from '../hooks/outbox';
import { liveRunKey, type LiveRuns } from '../db/prune';
import { ensureSearchAttributes } from './searchAttributes';
import { pollersOf, timestampMs } from './pollers';
import { isUnreadablePayload, unreadableNote } from '../codec';
import { verifyRun } from '../verify';
import type { z } from 'zod';
import type { Batch, BatchDefinition, TriggerOptions } from '../batch';
import { UserError } from '../errors';
import { buildTriggerInput, resolveRun, type ResolvedRun } from '../plan';
import { BatchRegistry } from '../registry';
import { retryWorkflowId, runSearchAttributes, searchAttributes, triggerWorkflowId } from '../contracts/ids';
import { cancelSignal, pauseSignal, resumeSignal, type CancelRequest } from '../contracts/controls';
import { progressQuery } from '../contracts/controls';

import type { FailureFilter, RunProgress, RunSummary, TargetSource, TriggerWorkflow, Verification } from '../contracts/types';

export interface TjuClientOptions {
  client: Client;
  batches: readonly Batch[];
  taskQueue: string;
  /** Base URL of the Temporal Web UI, for links. */
  uiUrl?: string;
  /** tju's database: `status` and `runs` fall back to its run history for runs Temporal no longer has. */
  db?: Pool;
  /** The schema of tju's tables (default `tju`). */
  schema?: string;
}

/** How long a query may wait for a worker to answer before a command gives up on live counts. */
const QUERY_DEADLINE_MS = 5000;

/** One run of one batch, identified by its run key. */
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
    const problems: string[] = [];
    for (const workflowId of own ? [this.workflowId, ...partitions] : partitions) {
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
    }
    return [...new Set(problems)];
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
  private async executions(): Promise<Array<{ runId: string; state: string; startTime: Date }>> {
    const found = new Map<string, { runId: string; state: string; startTime: Date }>();
    const query = `WorkflowId = '${this.workflowId.replace(/'/g, "\\'")}' AND ExecutionStatus != 'ContinuedAsNew'`;
    for await (const wf of this.client.workflow.list({ query })) {
      found.set(wf.runId, { runId: wf.runId, state: wf.status.name, startTime: wf.startTime });
    }
    // Visibility lags a little behind a start; the latest execution is always known to describe().
    try {
      const latest = await this.client.workflow.getHandle(this.workflowId).describe();
      if (latest.status.name !== 'CONTINUED_AS_NEW') {
        found.set(latest.runId, { runId: latest.runId, state: latest.status.name, startTime: latest.startTime });
      }
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    return [...found.values()].sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  }

  /** One execution's status: its summary when completed, live counts (or why there are none) while running. */
  async statusOf({ runId, state, startTime }: { runId: string; state: string; startTime: Date }): Promise<RunStatus> {
    const base = { batch: this.batch, runKey: this.runKey, workflowId: this.workflowId, runId, state, startTime, uiUrl: this.link(runId) };
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
async function stateOf(handle: WorkflowHandle): Promise<string | undefined> {
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
  /** Why live counts are missing (no worker polling, a worker not answering). */
  note?: string;
  /** What holds a running run up: an activity being retried, with its last error. */
  problems?: string[];
  /** The run's hook calls not delivered: still retrying, or given up. */
  hooks?: HookProblem[];
  /** Later runs of the same run key (re-runs), oldest first. */
  reruns?: RunStatus[];
  /** Read from tju's run history in PostgreSQL: Temporal no longer has this run. */
  fromHistory?: boolean;
  finishTime?: Date;
}

/** A run history row as a status: states in Temporal's spelling, so both read alike. */
function statusFromRecord(record: RunRecord): RunStatus {
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

/** A batch by its definition (params typed by its schema) or by name (the CLI's way). */
export type BatchRef = Batch | string;

/** The params a batch's schema accepts: typed for a definition, any object for a name. */
export type ParamsOf<B> = B extends BatchDefinition<infer P, infer _T, infer _I> ? z.input<P> : Record<string, unknown>;

const nameOf = (batch: BatchRef): string => (typeof batch === 'string' ? batch : batch.name);

/**
 * Starts and inspects batch runs: what the CLI uses, and what app code uses to start a batch —
 * `tju.trigger(issueInvoices, { date: '2026-11-01' })`, its params checked against the batch's schema by the
 * compiler, or `tju.trigger('billing.issue-invoices', { date })` by name.
 */
export class TjuClient {
  private readonly batches: BatchRegistry;

  constructor(private readonly options: TjuClientOptions) {
    this.batches = new BatchRegistry(options.batches);
  }

  /** Validates params against the batch's schema; a bad value is a one-line UserError. */
  resolve<B extends BatchRef>(batch: B, rawParams: ParamsOf<B> = {} as ParamsOf<B>): ResolvedRun {
    return resolveRun(this.batches.get(nameOf(batch)), rawParams as Record<string, unknown>);
  }

  /**
   * Starts the run for these params, or returns the one already running: the run key names the
   * workflow, so concurrent triggers of one run share it.
   */
  async trigger<B extends BatchRef>(batch: B, rawParams: ParamsOf<B> = {} as ParamsOf<B>, overrides: TriggerOptions = {}) {
    const run = this.resolve(batch, rawParams);
    return this.start(run, triggerWorkflowId(run.batch.name, run.runKey), overrides);
  }

  /**
   * Processes the failed targets of a finished run again, and only those, each with the options its job
   * carried. Runs as its own trigger workflow, `<batch>/<runKey>/retry`.
   */
  async retry<B extends BatchRef>(
    batch: B,
    rawParams: ParamsOf<B> = {} as ParamsOf<B>,
    { failures, ...overrides }: TriggerOptions & { failures?: FailureFilter } = {},
  ) {
    const run = this.resolve(batch, rawParams);
    const main = this.handleFor(run.batch.name, run.runKey);
    const state = await main.state();
    if (!state) throw new UserError(`no run of ${run.batch.name} for ${run.runKey} (workflow ${main.workflowId}): nothing to retry`);
    if (state === 'RUNNING') {
      throw new UserError(`${main.workflowId} is still running; retry its failures once it has finished`);
    }
    const workflowId = retryWorkflowId(run.batch.name, run.runKey);
    const filter = failures && (failures.error !== undefined || failures.target !== undefined) ? { failures } : {};
    // A running retry would be joined, and a chosen group silently widened or narrowed to its choice.
    if (filter.failures && (await stateOf(this.options.client.workflow.getHandle(workflowId))) === 'RUNNING') {
      throw new UserError(`a retry of ${run.batch.name} ${run.runKey} is running; retry a part of its failures once it has finished`);
    }
    return this.start(run, workflowId, { ...overrides, source: 'failures', ...filter });
  }

  private async start(
    run: ResolvedRun,
    workflowId: string,
    overrides: TriggerOptions & { source?: TargetSource; failures?: FailureFilter },
  ): Promise<RunHandle> {
    const start = () =>
      this.options.client.workflow.start<TriggerWorkflow>('triggerWorkflow', {
        workflowId,
        taskQueue: this.taskQueueOf(run.batch.name),
        args: [buildTriggerInput(run, overrides)],
        workflowIdConflictPolicy: 'USE_EXISTING',
        typedSearchAttributes: runSearchAttributes(run.batch.name, run.runKey),
      });
    const unmapped = (err: unknown): boolean => {
      for (let e = err; e instanceof Error; e = e.cause) if (/no mapping defined for search attribute Tju/.test(e.message)) return true;
      return false;
    };
    let started;
    try {
      started = await start();
    } catch (err) {
      // A server no worker has met yet (a fresh dev server) lacks tju's search attributes: register them, and
      // start again once the server's cache has them (a few seconds).
      if (!unmapped(err)) throw err;
      const { client } = this.options;
      await ensureSearchAttributes(client.connection, client.options.namespace).catch((cause: Error) => {
        throw new UserError(`Temporal has no search attribute TjuBatch, and registering it failed (${cause.message}): start a worker once`);
      });
      for (let tries = 1; ; tries++) {
        try {
          started = await start();
          break;
        } catch (again) {
          if (!unmapped(again) || tries >= 40) throw again;
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
    }
    return this.handleFor(run.batch.name, run.runKey, workflowId, started.firstExecutionRunId);
  }

  /** The run for these params, started or not. */
  run<B extends BatchRef>(batch: B, rawParams: ParamsOf<B> = {} as ParamsOf<B>): RunHandle {
    const run = this.resolve(batch, rawParams);
    return this.handleFor(run.batch.name, run.runKey);
  }

  /** Pauses the running run of these params: no new jobs until `resume`. */
  pause<B extends BatchRef>(batch: B, rawParams: ParamsOf<B> = {} as ParamsOf<B>): Promise<string[]> {
    return this.run(batch, rawParams).pause();
  }

  resume<B extends BatchRef>(batch: B, rawParams: ParamsOf<B> = {} as ParamsOf<B>): Promise<string[]> {
    return this.run(batch, rawParams).resume();
  }

  /** Cancels the running run of these params; `run(…).result()` resolves with its summary. */
  cancel<B extends BatchRef>(batch: B, rawParams: ParamsOf<B> = {} as ParamsOf<B>, request: CancelRequest = {}): Promise<string[]> {
    return this.run(batch, rawParams).cancel(request);
  }

  /**
   * The run key's first run, with its re-runs; live counts while one is running. Once Temporal has dropped the
   * run (its retention period), what tju's run history recorded, when the client has the database.
   */
  async status<B extends BatchRef>(batch: B, rawParams: ParamsOf<B> = {} as ParamsOf<B>): Promise<RunStatus> {
    const handle = this.run(batch, rawParams);
    const hooks = await this.hooksOf(handle.batch, handle.runKey);
    if (this.options.db && (await handle.state()) === undefined) {
      const records = (await listRunRecords(this.options.db, handle.batch, { runKey: handle.runKey }, this.options.schema))
        .filter((record) => record.workflowId === handle.workflowId)
        .reverse();
      if (records.length) {
        const [first, ...later] = records.map(statusFromRecord);
        return { ...first, reruns: later, ...hooks };
      }
    }
    return { ...(await handle.status()), ...hooks };
  }

  /**
   * Proves a run complete, or names what it lost: every target the batch's query still selects for the run
   * key has a ledger row for each applicable step or an open failure record (see `tju verify`). Needs `db`.
   */
  async verify<B extends BatchRef>(
    batch: B,
    rawParams: ParamsOf<B> = {} as ParamsOf<B>,
  ): Promise<Verification & { batch: string; runKey: string }> {
    const run = this.resolve(batch, rawParams);
    if (!this.options.db) throw new UserError('verify reads the ledger: give TjuClient a `db` pool');
    const verified = await verifyRun(this.options.db, run.batch, run, { schema: this.options.schema });
    return { batch: run.batch.name, runKey: run.runKey, ...verified };
  }

  /** A run's hook calls not yet delivered, when the client has the database. */
  private async hooksOf(batch: string, runKey: string): Promise<Pick<RunStatus, 'hooks'>> {
    if (!this.options.db) return {};
    const hooks = await hookProblems(this.options.db, batch, runKey, this.options.schema);
    return hooks.length ? { hooks } : {};
  }

  /** The latest runs of a batch (retries included), newest first, with their counts where known. */
  async runs(batchRef: BatchRef, limit = 20): Promise<RunStatus[]> {
    const batch = this.batches.get(nameOf(batchRef));
    // No ORDER BY: SQL visibility (the dev server's) refuses it; its default order is running, then newest closed.
    const query = `WorkflowType = 'triggerWorkflow' AND TjuBatch = '${batch.name}' AND ExecutionStatus != 'ContinuedAsNew'`;
    const runs: RunStatus[] = [];
    for await (const wf of this.options.client.workflow.list({ query, pageSize: limit })) {
      const runKey = wf.typedSearchAttributes.get(searchAttributes.runKey) ?? '';
      const handle = this.handleFor(batch.name, runKey, wf.workflowId, wf.runId);
      const status = await handle.statusOf({ runId: wf.runId, state: wf.status.name, startTime: wf.startTime });
      runs.push({ ...status, ...(await this.hooksOf(batch.name, runKey)) });
      if (runs.length >= limit) break;
    }
    if (this.options.db) {
      const records = await listRunRecords(this.options.db, batch.name, { limit }, this.options.schema);
      // Runs whose summary this process cannot decrypt: their counts, as the run history has them.
      for (const run of runs) {
        if (run.counts || run.state !== 'COMPLETED') continue;
        const record = records.find((r) => r.workflowId === run.workflowId && r.executionId === run.runId && r.counts);
        if (record?.counts) run.counts = record.counts;
      }
      // Runs whose workflow Temporal no longer has (past its retention), from tju's run history.
      const known = new Set(runs.map((run) => run.workflowId));
      for (const record of records) {
        if (!known.has(record.workflowId)) runs.push(statusFromRecord(record));
      }
    }
    return runs.sort((a, b) => b.startTime!.getTime() - a.startTime!.getTime()).slice(0, limit);
  }

  /** Every run Temporal runs a trigger of now (the run's own, a retry, a partition): what `tju prune` keeps. */
  async liveRuns(): Promise<LiveRuns> {
    const live: LiveRuns = new Set();
    const query = `WorkflowType = 'triggerWorkflow' AND ExecutionStatus = 'Running'`;
    for await (const wf of this.options.client.workflow.list({ query })) {
      const batch = wf.typedSearchAttributes.get(searchAttributes.batch);
      const runKey = wf.typedSearchAttributes.get(searchAttributes.runKey);
      if (batch !== undefined && runKey !== undefined) live.add(liveRunKey(batch, runKey));
    }
    return live;
  }

  private taskQueueOf(batchName: string): string {
    if (!this.knows(batchName)) return this.options.taskQueue;
    return this.batches.get(batchName).taskQueue ?? this.options.taskQueue;
  }

  /** Whether this client knows the batch (an app's dashboard may show runs of batches it does not run). */
  knows(batch: string): boolean {
    return this.batches.all().some((b) => b.name === batch);
  }

  /**
   * A run by its batch and run key, as recorded (no params to resolve); `workflowId` names one of its triggers
   * (a retry's). Without `runId`, the latest execution under the workflow ID (following continue-as-new).
   */
  handleFor(batch: string, runKey: string, workflowId = triggerWorkflowId(batch, runKey), runId?: string): RunHandle {
    return new RunHandle(batch, runKey, workflowId, runId, this.taskQueueOf(batch), this.options.client, (id) => this.link(workflowId, id));
  }

  /** The Web UI's page of a workflow: of one execution when `runId` is given, else of its latest. */
  link(workflowId: string, runId?: string): string | undefined {
    if (!this.options.uiUrl) return undefined;
    const page = `${this.namespacePage()}/workflows/${encodeURIComponent(workflowId)}`;
    return runId ? `${page}/${runId}/history` : page;
  }

  /** The Web UI's list of the workflows a visibility query selects. */
  listLink(query: string): string | undefined {
    return this.options.uiUrl ? `${this.namespacePage()}/workflows?query=${encodeURIComponent(query)}` : undefined;
  }

  private namespacePage(): string {
    return `${this.options.uiUrl}/namespaces/${encodeURIComponent(this.options.client.options.namespace)}`;
  }
}
