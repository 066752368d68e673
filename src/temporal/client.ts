import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import type { z } from 'zod';
import { listRunRecords, recordStart } from '../db/runHistory';
import { logger } from '../log';
import { hookProblems } from '../hooks/outbox';
import { liveRunKey, type LiveRuns } from '../db/prune';
import { verifyRun } from '../verify';
import type { Batch, BatchDefinition, TriggerOptions } from '../batch';
import { UserError } from '../errors';
import { buildTriggerInput, resolveRun, type ResolvedRun } from '../plan';
import { BatchRegistry } from '../registry';
import { retryWorkflowId, searchAttributes, triggerWorkflowId, visibilityLiteral } from '../contracts/ids';
import type { CancelRequest } from '../contracts/controls';
import type { FailureFilter, TargetSource, Verification } from '../contracts/types';
import { RunHandle, stateOf } from './runHandle';
import { statusFromRecord, type RunStatus } from './runStatus';
import { startTrigger } from './startTrigger';
import { dispatchTarget, type DispatchedJob } from './dispatch';
import { WebUiLinks } from './webUi';
import { planRun, type RunPlan } from '../dryRun';

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
  private readonly webUi: WebUiLinks;

  constructor(private readonly options: TjuClientOptions) {
    this.batches = new BatchRegistry(options.batches);
    this.webUi = new WebUiLinks(options.uiUrl, options.client.options.namespace);
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
    const chosen = failures && (failures.group !== undefined || failures.error !== undefined || failures.target !== undefined);
    const filter = chosen ? { failures } : {};
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
    const input = buildTriggerInput(run, overrides);
    const started = await startTrigger(this.options.client, {
      workflowId,
      taskQueue: this.taskQueueOf(run.batch.name),
      input,
      batch: run.batch.name,
      runKey: run.runKey,
      priority: run.batch.priority,
    });
    if (this.options.db) {
      const start = {
        batch: run.batch.name,
        runKey: run.runKey,
        workflowId,
        executionId: started.firstExecutionRunId,
        params: input.params,
      };
      await recordStart(this.options.db, { ...start, kind: input.source === 'failures' ? 'retry' : 'run' }, this.options.schema).catch(
        (err: Error) => logger.warn({ err: err.message, workflowId }, 'could not note the start in the run history'),
      );
    }
    return this.handleFor(run.batch.name, run.runKey, workflowId, started.firstExecutionRunId);
  }

  /**
   * Starts one target's job now — an order just paid, not tomorrow's run — under the run key of these params,
   * with the job ID, settings and ledger the run would use: called twice it acts once, and the run of the key
   * skips the target (its query selects only what is not done) or joins its job while it runs. `target` is the
   * row the batch's target query would return for it (its key and the options its job carries).
   */
  async dispatch<B extends BatchRef>(batch: B, rawParams: ParamsOf<B>, target: Record<string, unknown>): Promise<DispatchedJob> {
    const run = this.resolve(batch, rawParams);
    return dispatchTarget(this.options.client, run, target, this.taskQueueOf(run.batch.name));
  }

  /**
   * What a run of these params would do — targets selected, per step, per partition, Temporal's cost, an
   * estimated duration — without starting or writing anything (`tju plan`). Needs `db`.
   */
  async plan<B extends BatchRef>(batch: B, rawParams: ParamsOf<B> = {} as ParamsOf<B>, overrides: TriggerOptions = {}): Promise<RunPlan> {
    const run = this.resolve(batch, rawParams);
    if (!this.options.db) throw new UserError('plan reads the target query: give TjuClient a `db` pool');
    return planRun(this.options.db, run, overrides, this.options.schema);
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
    const query = `WorkflowType = 'triggerWorkflow' AND TjuBatch = ${visibilityLiteral(batch.name)} AND ExecutionStatus != 'ContinuedAsNew'`;
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
    return this.webUi.workflow(workflowId, runId);
  }

  /** The Web UI's list of the workflows a visibility query selects. */
  listLink(query: string): string | undefined {
    return this.webUi.list(query);
  }
}
