import type { NativeConnection, Worker, WorkerOptions } from '@temporalio/worker';
import type { Duration, Logger, PayloadCodec } from '@temporalio/common';
import type { Pool } from 'pg';
import type { ActivityDeps } from '../../activities';
import { stepsOf, type Batch } from '../batch';
import { unitTaskQueue } from '../contracts/ids';
import { temporalLogger } from '../log';
import { BatchRegistry } from '../registry';
import { Slots } from '../util/slots';
import { currentTracing, tracingOn } from '../telemetry/tracing';

/**
 * Activities beside the units: the triggers' reads and records (pages, failure records, run history), bulk
 * chunks and waits for jobs. Each holds a task slot, and most a pooled connection for a moment.
 */
export const ACTIVITY_RESERVE = 10;

/** A worker process's PostgreSQL pool: a connection for each unit it runs at once, and some for the rest. */
export const poolSizeFor = (maxConcurrentUnits: number): number => maxConcurrentUnits + ACTIVITY_RESERVE;

/**
 * The most often an activity's heartbeat reaches Temporal (the SDK's own is 0.8 × its heartbeat timeout). A bulk
 * chunk's heartbeat is its resume point: after a crash its retry reruns what finished since the last one reached
 * the server, so a second of targets rather than four. One call a second per running activity that beats.
 */
export const HEARTBEAT_THROTTLE_MS = 1000;

export interface TjuWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue: string;
  batches: readonly Batch[];
  pool: Pool;
  /** The schema of tju's tables (default `tju`). */
  schema?: string;
  /**
   * Units running at once in this worker process, whatever runs them (local or regular activities, rate-limited
   * queues, bulk lanes); size its pool with `poolSizeFor`. Default 20.
   */
  maxConcurrentUnits?: number;
  /** The process's unit slots, shared by all its workers (one per task queue); default: slots of its own. */
  unitSlots?: Slots;
  /** Workflows kept in memory between tasks (Temporal's sticky cache). */
  maxCachedWorkflows?: number;
  /** How long in-flight units may take to finish after shutdown begins, before they are cancelled. */
  shutdownGraceTime?: Duration;
  /** Called after every unit attempt: a place for metrics. */
  onUnitFinished?: ActivityDeps['onUnitFinished'];
  /** App-wide failure hook for batches that declare none; default: a structured log line. */
  onFailure?: ActivityDeps['onFailure'];
  /** App-wide hook retry policy for batches that declare none. */
  hookRetry?: ActivityDeps['hookRetry'];
  /** Told when a unit queued a hook call (the process's hook delivery looks at once). */
  onHookQueued?: () => void;
  /** Encrypts what the worker sends Temporal (see `EncryptionCodec`); the client must use the same. */
  payloadCodec?: PayloadCodec;
  /**
   * Worker Versioning: this worker is build `buildId` of Worker Deployment `name`, and the workflows it starts
   * are pinned to it: a run stays on the build that started it, whatever is deployed meanwhile.
   */
  deployment?: WorkerDeployment;
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

/**
 * Bundles `workflows/` once: every worker of a process (one per task queue) can share the result. With
 * `tracing`, Temporal's OpenTelemetry workflow interceptors go in with it (src/telemetry/temporal.ts).
 */
export async function bundleWorkflows({ tracing = tracingOn() } = {}): Promise<{ code: string }> {
  const { bundleWorkflowCode } = await import('@temporalio/worker');
  const workflowInterceptorModules = tracing ? (await import('../telemetry/temporal')).workflowTracingModules() : undefined;
  const { code } = await bundleWorkflowCode({ workflowsPath, preloadModules, logger: bundlerLogger, workflowInterceptorModules });
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

/** A unit's task queue of its own (declared, or for its rate limit), and that limit. */
export interface UnitQueue {
  taskQueue: string;
  /** Activities a second across all workers polling the queue (Temporal enforces it server-side). */
  rateLimit?: number;
}

/**
 * The task queues of units that run on one of their own, for the batches whose jobs run on `jobQueue`
 * (a batch's own queue, else `defaultQueue`). Two units sharing a queue share its lowest limit.
 */
export function unitQueuesOf(batches: readonly Batch[], jobQueue: string, defaultQueue = jobQueue): UnitQueue[] {
  const queues = new Map<string, UnitQueue>();
  for (const batch of batches) {
    if ((batch.taskQueue ?? defaultQueue) !== jobQueue) continue;
    for (const { unit } of stepsOf(batch)) {
      if (!unit.taskQueue && unit.rateLimit === undefined) continue;
      const taskQueue = unit.taskQueue ?? unitTaskQueue(jobQueue, unit.name);
      const known = queues.get(taskQueue);
      const limits = [known?.rateLimit, unit.rateLimit].filter((n): n is number => n !== undefined);
      queues.set(taskQueue, { taskQueue, ...(limits.length ? { rateLimit: Math.min(...limits) } : {}) });
    }
  }
  return [...queues.values()];
}

/**
 * Activity-only workers for the unit queues of the batches whose jobs run on `options.taskQueue`: a rate
 * limit is the queue's (`maxTaskQueueActivitiesPerSecond`), so it holds across every worker that polls it.
 */
export async function createUnitWorkers(options: TjuWorkerOptions & { defaultTaskQueue?: string }): Promise<Worker[]> {
  const { Worker } = await import('@temporalio/worker');
  const activities = await activitiesFor(options);
  const tracing = await tracingOptions();
  return Promise.all(
    unitQueuesOf(options.batches, options.taskQueue, options.defaultTaskQueue).map(({ taskQueue, rateLimit }) =>
      Worker.create({
        ...sharedOptions(options),
        taskQueue,
        activities,
        // The process's unit slots bound the units; the task slots only keep a queue from taking them all.
        maxConcurrentActivityTaskExecutions: options.maxConcurrentUnits ?? 20,
        ...tracing,
        ...(rateLimit !== undefined ? { maxTaskQueueActivitiesPerSecond: rateLimit } : {}),
      }),
    ),
  );
}

export interface WorkerDeployment {
  name: string;
  buildId: string;
}

/**
 * What every worker of a tju process shares: its connection, namespace, heartbeat throttle, shutdown, codec and
 * deployment version.
 */
const sharedOptions = (options: TjuWorkerOptions) => ({
  connection: options.connection,
  namespace: options.namespace ?? 'default',
  maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE_MS,
  shutdownGraceTime: options.shutdownGraceTime ?? '30s',
  ...(options.payloadCodec ? { dataConverter: { payloadCodecs: [options.payloadCodec] } } : {}),
  ...(options.deployment
    ? {
        workerDeploymentOptions: {
          useWorkerVersioning: true as const,
          version: { deploymentName: options.deployment.name, buildId: options.deployment.buildId },
          defaultVersioningBehavior: 'PINNED' as const,
        },
      }
    : {}),
});

/** With tracing on, the activity interceptors and the workflow spans' sink; nothing when off. */
async function tracingOptions(sinks?: WorkerOptions['sinks']): Promise<Partial<WorkerOptions>> {
  const tracing = currentTracing();
  if (!tracing) return {};
  return (await import('../telemetry/temporal')).tracedWorkerOptions(tracing, sinks);
}

// The SDK's worker and the activities load with the first worker: a command that runs none never pays for them.
const activitiesFor = async (options: TjuWorkerOptions) =>
  (await import('../../activities')).createActivities({
    pool: options.pool,
    batches: new BatchRegistry(options.batches),
    schema: options.schema,
    unitSlots: options.unitSlots ?? new Slots(options.maxConcurrentUnits ?? 20),
    onUnitFinished: options.onUnitFinished,
    onFailure: options.onFailure,
    hookRetry: options.hookRetry,
    onHookQueued: options.onHookQueued,
  });

/** A Temporal worker that runs the trigger and job workflows and the units of the given batches. */
export async function createWorker(options: TjuWorkerOptions): Promise<Worker> {
  const { Worker } = await import('@temporalio/worker');
  const sinks = (await import('./metrics')).metricSinks();
  return Worker.create({
    ...sharedOptions(options),
    taskQueue: options.taskQueue,
    workflowBundle: options.workflowBundle ?? (await bundleWorkflows()),
    activities: await activitiesFor(options),
    // With tracing on, the workflow spans' sink beside the metrics'.
    sinks,
    ...(await tracingOptions(sinks)),
    // Units run as local activities (or regular ones, as a unit declares), each in one of the process's unit
    // slots; the trigger's own activities (pages, records, bulk chunks) take task slots beside them.
    maxConcurrentLocalActivityExecutions: options.maxConcurrentUnits ?? 20,
    maxConcurrentActivityTaskExecutions: (options.maxConcurrentUnits ?? 20) + ACTIVITY_RESERVE,
    ...(options.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
  });
}
