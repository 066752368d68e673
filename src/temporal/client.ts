import { WorkflowNotFoundError, type Client, type WorkflowClient, type WorkflowHandle } from '@temporalio/client';
import type { Batch, TriggerOptions } from '../definitions';
import { UserError } from '../errors';
import { buildTriggerInput, resolveRun, type ResolvedRun } from '../plan';
import { BatchRegistry } from '../registry';
import { retryWorkflowId, runSearchAttributes, searchAttributes, triggerWorkflowId } from '../../workflows/ids';
import { progressQuery } from '../../workflows/queries';
import type { triggerWorkflow } from '../../workflows/trigger';
import type { RunProgress, RunSummary, TargetSource } from '../../workflows/types';

export interface TjuClientOptions {
  client: Client;
  batches: readonly Batch[];
  taskQueue: string;
  /** Base URL of the Temporal Web UI, for links. */
  uiUrl?: string;
}

/** One run of one batch, identified by its run key. */
export class RunHandle {
  constructor(
    readonly batch: string,
    readonly runKey: string,
    readonly workflowId: string,
    readonly uiUrl: string | undefined,
    private readonly handle: WorkflowHandle<typeof triggerWorkflow>,
    private readonly client: WorkflowClient,
  ) {}

  /** Live counts; a partitioned run adds those of its partitions still running. */
  async progress(): Promise<RunProgress> {
    const progress = await this.handle.query(progressQuery);
    for (const workflowId of progress.runningPartitions ?? []) {
      const part = await this.client.getHandle<typeof triggerWorkflow>(workflowId).query(progressQuery).catch(() => undefined);
      if (!part) continue;
      for (const key of ['total', 'succeeded', 'failed', 'skipped', 'inFlight'] as const) progress[key] += part[key];
    }
    return progress;
  }

  result(): Promise<RunSummary> {
    return this.handle.result();
  }

  /** Temporal's status of the latest run under this ID (RUNNING, COMPLETED, ...), or undefined if none. */
  async state(): Promise<string | undefined> {
    try {
      return (await this.handle.describe()).status.name;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  /** Progress of a running run, or the summary of a finished one. */
  async status(): Promise<RunStatus> {
    const state = await this.state();
    if (!state) throw new UserError(`no run of ${this.batch} for ${this.runKey} (workflow ${this.workflowId})`);
    const base = { batch: this.batch, runKey: this.runKey, workflowId: this.workflowId, state, uiUrl: this.uiUrl };
    if (state === 'RUNNING') return { ...base, counts: await this.progress() };
    if (state === 'COMPLETED') return { ...base, counts: await this.result() };
    return base;
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

export interface RunStatus {
  batch: string;
  runKey: string;
  workflowId: string;
  /** Temporal's execution status of the latest run: RUNNING, COMPLETED, FAILED, TERMINATED, ... */
  state: string;
  counts?: RunSummary | RunProgress;
  uiUrl?: string;
}

/** Starts and inspects batch runs: what the CLI uses, and what app code uses to start a batch. */
export class TjuClient {
  private readonly batches: BatchRegistry;

  constructor(private readonly options: TjuClientOptions) {
    this.batches = new BatchRegistry(options.batches);
  }

  /** Validates params against the batch's schema; a bad value is a one-line UserError. */
  resolve(batchName: string, rawParams: Record<string, unknown> = {}): ResolvedRun {
    return resolveRun(this.batches.get(batchName), rawParams);
  }

  /**
   * Starts the run for these params, or returns the one already running: the run key names the
   * workflow, so concurrent triggers of one run share it.
   */
  async trigger(batchName: string, rawParams: Record<string, unknown> = {}, overrides: TriggerOptions = {}) {
    const run = this.resolve(batchName, rawParams);
    return this.start(run, triggerWorkflowId(run.batch.name, run.runKey), overrides);
  }

  /**
   * Processes the failed targets of a finished run again, and only those, each with the options its job
   * carried. Runs as its own trigger workflow, `<batch>/<runKey>/retry`.
   */
  async retry(batchName: string, rawParams: Record<string, unknown> = {}, overrides: TriggerOptions = {}) {
    const run = this.resolve(batchName, rawParams);
    const main = this.handleFor(run.batch.name, run.runKey);
    if ((await main.state()) === 'RUNNING') {
      throw new UserError(`${main.workflowId} is still running; retry its failures once it has finished`);
    }
    return this.start(run, retryWorkflowId(run.batch.name, run.runKey), { ...overrides, source: 'failures' });
  }

  private async start(
    run: ResolvedRun,
    workflowId: string,
    overrides: TriggerOptions & { source?: TargetSource },
  ): Promise<RunHandle> {
    await this.options.client.workflow.start<typeof triggerWorkflow>('triggerWorkflow', {
      workflowId,
      taskQueue: run.batch.taskQueue ?? this.options.taskQueue,
      args: [buildTriggerInput(run, overrides)],
      workflowIdConflictPolicy: 'USE_EXISTING',
      typedSearchAttributes: runSearchAttributes(run.batch.name, run.runKey),
    });
    return this.handleFor(run.batch.name, run.runKey, workflowId);
  }

  /** The run for these params, started or not. */
  run(batchName: string, rawParams: Record<string, unknown> = {}): RunHandle {
    const { batch, runKey } = this.resolve(batchName, rawParams);
    return this.handleFor(batch.name, runKey);
  }

  /** Progress of a running run, or the summary of a finished one. */
  status(batchName: string, rawParams: Record<string, unknown> = {}): Promise<RunStatus> {
    return this.run(batchName, rawParams).status();
  }

  /** The latest runs of a batch (retries included), newest first, with their counts where known. */
  async runs(batchName: string, limit = 20): Promise<Array<RunStatus & { startTime: Date }>> {
    const batch = this.batches.get(batchName);
    // No ORDER BY: SQL visibility (the dev server's) refuses it; its default order is running, then newest closed.
    const query =
      `WorkflowType = 'triggerWorkflow' AND TjuBatch = '${batch.name}' AND ExecutionStatus != 'ContinuedAsNew'`;
    const runs: Array<RunStatus & { startTime: Date }> = [];
    for await (const wf of this.options.client.workflow.list({ query, pageSize: limit })) {
      const runKey = wf.typedSearchAttributes.get(searchAttributes.runKey) ?? '';
      const handle = this.handleFor(batch.name, runKey, wf.workflowId, wf.runId);
      const state = wf.status.name;
      const counts =
        state === 'RUNNING'
          ? await handle.progress().catch(() => undefined)
          : state === 'COMPLETED'
            ? await handle.result()
            : undefined;
      runs.push({ batch: batch.name, runKey, workflowId: wf.workflowId, state, counts, startTime: wf.startTime });
      if (runs.length >= limit) break;
    }
    return runs.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
  }

  /** Without `runId`, the latest run under the workflow ID (following continue-as-new). */
  private handleFor(batch: string, runKey: string, workflowId = triggerWorkflowId(batch, runKey), runId?: string) {
    const handle = this.options.client.workflow.getHandle<typeof triggerWorkflow>(workflowId, runId);
    return new RunHandle(batch, runKey, workflowId, this.link(workflowId), handle, this.options.client.workflow);
  }

  private link(workflowId: string): string | undefined {
    if (!this.options.uiUrl) return undefined;
    const namespace = encodeURIComponent(this.options.client.options.namespace);
    return `${this.options.uiUrl}/namespaces/${namespace}/workflows/${encodeURIComponent(workflowId)}`;
  }
}
