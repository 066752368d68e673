import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { Batch, TriggerOptions } from '../definitions';
import { UserError } from '../errors';
import { resolveRun, type ResolvedRun } from '../params';
import { BatchRegistry } from '../registry';
import { searchAttributes, triggerWorkflowId } from '../../workflows/ids';
import type { progressQuery as ProgressQuery, triggerWorkflow } from '../../workflows/trigger';
import type { RunProgress, RunSummary, TriggerInput } from '../../workflows/types';

export const TRIGGER_DEFAULTS = { window: 100, pageSize: 500, maxHistoryEvents: 5000 } satisfies TriggerOptions;
/**
 * Per-chunk jobs hold their workflow task open while their units run, so only as many chunks should be in
 * flight as the workers have unit slots for (8 chunks x 10 units covers 4 workers' default 20 slots).
 */
export const PER_CHUNK_DEFAULT_WINDOW = 8;

const PROGRESS_QUERY: typeof ProgressQuery = 'progress' as unknown as typeof ProgressQuery;

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
  ) {}

  progress(): Promise<RunProgress> {
    return this.handle.query(PROGRESS_QUERY);
  }

  result(): Promise<RunSummary> {
    return this.handle.result();
  }

  /** Progress of a running run, or the summary of a finished one. */
  async status(): Promise<RunStatus> {
    let state: string;
    try {
      state = (await this.handle.describe()).status.name;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        throw new UserError(`no run of ${this.batch} for ${this.runKey} (workflow ${this.workflowId})`);
      }
      throw err;
    }
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
    const { batch, params, runKey } = this.resolve(batchName, rawParams);
    const options = { ...batch.trigger, ...overrides };
    const input: TriggerInput = {
      batch: batch.name,
      runKey,
      params,
      ...TRIGGER_DEFAULTS,
      ...(options.granularity === 'per-chunk' ? { window: PER_CHUNK_DEFAULT_WINDOW } : {}),
      ...options,
      job: { retry: batch.job.retry, timeout: batch.job.timeout },
    };
    await this.options.client.workflow.start<typeof triggerWorkflow>('triggerWorkflow', {
      workflowId: triggerWorkflowId(batch.name, runKey),
      taskQueue: this.options.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      typedSearchAttributes: [
        { key: searchAttributes.batch, value: batch.name },
        { key: searchAttributes.runKey, value: runKey },
      ],
    });
    return this.handleFor(batch.name, runKey);
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

  private handleFor(batch: string, runKey: string): RunHandle {
    const workflowId = triggerWorkflowId(batch, runKey);
    const handle = this.options.client.workflow.getHandle<typeof triggerWorkflow>(workflowId);
    return new RunHandle(batch, runKey, workflowId, this.link(workflowId), handle);
  }

  private link(workflowId: string): string | undefined {
    if (!this.options.uiUrl) return undefined;
    const namespace = encodeURIComponent(this.options.client.options.namespace);
    return `${this.options.uiUrl}/namespaces/${namespace}/workflows/${encodeURIComponent(workflowId)}`;
  }
}
