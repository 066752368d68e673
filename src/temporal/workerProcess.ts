import type { Worker } from '@temporalio/worker';
import { startTracing } from '../telemetry/tracing';
import type { Pool } from 'pg';
import { parseDuration, type TemporalTarget } from '../config';
import type { Batch } from '../batch';
import type { FailureHook, HookRetry } from '../hooks';
import { startHookDelivery } from '../hooks/delivery';
import { logger } from '../log';
import { connectWorker } from './connect';
import { bundleWorkflows, createUnitWorkers, createWorker, type WorkerDeployment } from './worker';
import { Slots } from '../util/slots';

export interface WorkerProcessOptions {
  temporal: TemporalTarget;
  namespace: string;
  /** Task queues to poll; one Temporal worker each, with its own unit slots. */
  taskQueues: string[];
  /** The queue of batches that name none (TJU_TASK_QUEUE): its units' own queues derive from it. */
  defaultTaskQueue?: string;
  batches: readonly Batch[];
  pool: Pool;
  schema: string;
  /** Failure hook for batches that declare none. */
  onFailure?: FailureHook;
  /** Hook retry policy for batches that declare none. */
  hookRetry?: HookRetry;
  maxConcurrentUnits: number;
  maxCachedWorkflows?: number;
  shutdownGrace: string;
  /** Drain and exit after this long, for a supervisor to restart (the seed's `--max-time`). */
  maxLifetime?: string;
  /** Drain and exit once the process's RSS passes this (the seed's `--memory`). */
  maxMemoryMb?: number;
  /** Worker Versioning: the deployment and build this process is; its workflows are pinned to it. */
  deployment?: WorkerDeployment;
}

/** The task queues a worker polls by default: the default one, and each batch's own. */
export function taskQueuesOf(batches: readonly Batch[], defaultQueue: string): string[] {
  return [...new Set([defaultQueue, ...batches.flatMap((batch) => (batch.taskQueue ? [batch.taskQueue] : []))])];
}

/**
 * Runs workers until SIGINT/SIGTERM (Temporal's runtime turns them into a graceful shutdown: stop polling,
 * let in-flight units finish within the grace time) or until a lifetime or memory limit asks for the same.
 */
export async function runWorkerProcess(options: WorkerProcessOptions): Promise<void> {
  // OTEL_* in the environment: workflows, activities, units and their SQL are traced (src/telemetry/).
  const tracing = await startTracing();
  const connection = await connectWorker(options.temporal);
  const workers: Worker[] = [];
  // Hooks are called here, apart from the runs that queued them.
  const hooks = startHookDelivery(options);
  // One bound for every unit the process runs, whichever of its workers runs it.
  const unitSlots = new Slots(options.maxConcurrentUnits);
  try {
    const workflowBundle = await bundleWorkflows();
    const unitQueues: string[] = [];
    for (const taskQueue of options.taskQueues) {
      workers.push(
        await createWorker({
          connection,
          namespace: options.namespace,
          taskQueue,
          batches: options.batches,
          pool: options.pool,
          schema: options.schema,
          onFailure: options.onFailure,
          hookRetry: options.hookRetry,
          onHookQueued: hooks.wake,
          maxConcurrentUnits: options.maxConcurrentUnits,
          unitSlots,
          maxCachedWorkflows: options.maxCachedWorkflows,
          shutdownGraceTime: parseDuration(options.shutdownGrace),
          workflowBundle,
          payloadCodec: options.temporal.codec,
          deployment: options.deployment,
        }),
      );
      const units = await createUnitWorkers({
        connection,
        namespace: options.namespace,
        taskQueue,
        defaultTaskQueue: options.defaultTaskQueue,
        batches: options.batches,
        pool: options.pool,
        schema: options.schema,
        onFailure: options.onFailure,
        hookRetry: options.hookRetry,
        onHookQueued: hooks.wake,
        maxConcurrentUnits: options.maxConcurrentUnits,
        unitSlots,
        shutdownGraceTime: parseDuration(options.shutdownGrace),
        payloadCodec: options.temporal.codec,
        deployment: options.deployment,
      });
      workers.push(...units);
      unitQueues.push(...units.map((worker) => worker.options.taskQueue));
    }
    const started = Date.now();
    const lifetimeMs = options.maxLifetime ? parseDuration(options.maxLifetime)! : Infinity;
    const drain = (reason: string) => {
      clearInterval(monitor);
      logger.warn({ reason }, 'tju worker draining to exit; its supervisor should start a new one');
      for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    };
    const monitor = setInterval(() => {
      const rssMb = process.memoryUsage().rss / 2 ** 20;
      if (Date.now() - started >= lifetimeMs) drain(`lifetime ${options.maxLifetime} reached`);
      else if (options.maxMemoryMb && rssMb >= options.maxMemoryMb) drain(`memory ${rssMb.toFixed(0)} MB ≥ ${options.maxMemoryMb} MB`);
    }, 1000);
    console.error(
      `tju worker polling ${[...options.taskQueues, ...unitQueues].join(', ')} on ${options.temporal.address} (${options.maxConcurrentUnits} units at once)`,
    );
    try {
      await Promise.all(workers.map((worker) => worker.run()));
    } finally {
      clearInterval(monitor);
    }
    console.error('tju worker stopped');
  } finally {
    await hooks.stop();
    await connection.close();
    await tracing?.shutdown();
  }
}
