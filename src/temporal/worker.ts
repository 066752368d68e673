import { bundleWorkflowCode, Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import type { Duration, Logger, PayloadCodec } from '@temporalio/common';
import type { Pool } from 'pg';
import { createActivities, type ActivityDeps } from '../../activities';
import type { Batch } from '../definitions';
import { temporalLogger } from '../log';
import { BatchRegistry } from '../registry';

export interface TjuWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue: string;
  batches: readonly Batch[];
  pool: Pool;
  /** The schema of tju's tables (default `tju`). */
  schema?: string;
  /** Units running at once in this worker; keep at or below the pool's size. */
  maxConcurrentUnits?: number;
  /** Workflows kept in memory between tasks (Temporal's sticky cache). */
  maxCachedWorkflows?: number;
  /** How long in-flight units may take to finish after shutdown begins, before they are cancelled. */
  shutdownGraceTime?: Duration;
  /** Called after every unit attempt: a place for metrics. */
  onUnitFinished?: ActivityDeps['onUnitFinished'];
  /** App-wide failure hook for batches that declare none; default: a structured log line. */
  onFailure?: ActivityDeps['onFailure'];
  /** Encrypts what the worker sends Temporal (see `EncryptionCodec`); the client must use the same. */
  payloadCodec?: PayloadCodec;
  /** The bundle from `bundleWorkflows()`, shared by a process's workers; bundled at start-up when absent. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

/** Where the workflow sources are, from src/ or dist/src/ alike. */
export const workflowsPath = require.resolve('../../workflows');

/**
 * Libraries every workflow imports, evaluated once per worker thread instead of once per workflow (with a
 * child workflow per target, that is once per target). Neither keeps per-workflow state at module scope.
 */
const preloadModules = ['@temporalio/workflow', '@temporalio/common'];

/** Bundles `workflows/` once: every worker of a process (one per task queue) can share the result. */
export async function bundleWorkflows(): Promise<{ code: string }> {
  const { code } = await bundleWorkflowCode({ workflowsPath, preloadModules, logger: bundlerLogger });
  return { code };
}

// The bundler reports each build at INFO; only its warnings concern an operator.
const quiet = () => undefined;
const bundlerLogger: Logger = {
  ...temporalLogger,
  log: (level, message, meta) => (level === 'WARN' || level === 'ERROR') && temporalLogger.log(level, message, meta),
  info: quiet,
  debug: quiet,
  trace: quiet,
};

/** A Temporal worker that runs the trigger and job workflows and the units of the given batches. */
export async function createWorker(options: TjuWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue,
    workflowBundle: options.workflowBundle ?? (await bundleWorkflows()),
    activities: createActivities({
      pool: options.pool,
      batches: new BatchRegistry(options.batches),
      schema: options.schema,
      onUnitFinished: options.onUnitFinished,
      onFailure: options.onFailure,
    }),
    // Units run as local activities; failure records as regular ones.
    maxConcurrentLocalActivityExecutions: options.maxConcurrentUnits ?? 20,
    maxConcurrentActivityTaskExecutions: options.maxConcurrentUnits ?? 20,
    ...(options.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
    shutdownGraceTime: options.shutdownGraceTime ?? '30s',
    ...(options.payloadCodec ? { dataConverter: { payloadCodecs: [options.payloadCodec] } } : {}),
  });
}
