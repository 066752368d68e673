import type { Command } from 'commander';
import type { CliApp } from '../app';
import { parseDuration } from '../../config';
import { untilReachable } from '../../util/untilReachable';
import { createPool } from '../../db/pool';
import { checkMigrated } from '../../db/migrate';
import { connectClient } from '../../temporal/connect';
import { ensureSearchAttributes } from '../../temporal/searchAttributes';
import { runWorkerProcess, taskQueuesOf } from '../../temporal/workerProcess';
import { poolSizeFor, type WorkerDeployment } from '../../temporal/worker';
import { UserError } from '../../errors';
import { duration, port, positiveInt } from '../parsers';
import { installRuntime } from '../../temporal/runtime';

interface WorkerFlags {
  taskQueue?: string;
  maxConcurrentUnits?: number;
  maxCachedWorkflows?: number;
  shutdownGrace?: string;
  maxLifetime?: string;
  maxMemory?: number;
  connectTimeout?: string;
  metricsPort?: number;
  deployment?: string;
  buildId?: string;
}

export function registerWorker(program: Command, app: CliApp): void {
  program
    .command('worker')
    .description('run the workflows and units of every batch; SIGINT/SIGTERM drain it and exit 0')
    .option('--task-queue <names>', "comma-separated queues to poll (default: TJU_TASK_QUEUE and each batch's own)")
    .option(
      '--max-concurrent-units <n>',
      'units at once in this worker, all queues together (TJU_MAX_CONCURRENT_UNITS, default 20)',
      positiveInt,
    )
    .option('--max-cached-workflows <n>', 'workflows kept in memory (TJU_MAX_CACHED_WORKFLOWS)', positiveInt)
    .option('--shutdown-grace <duration>', 'time in-flight units get to finish on shutdown (TJU_SHUTDOWN_GRACE, default 30s)', duration)
    .option('--max-lifetime <duration>', 'drain and exit after this long (TJU_MAX_LIFETIME)', duration)
    .option('--max-memory <MB>', 'drain and exit once RSS passes this (TJU_MAX_MEMORY_MB)', positiveInt)
    .option('--metrics-port <port>', 'serve Prometheus metrics on this port, at /metrics (TJU_METRICS_PORT)', port)
    .option(
      '--connect-timeout <duration>',
      'keep trying to reach PostgreSQL and Temporal at start for this long (TJU_CONNECT_TIMEOUT, default 0s)',
      duration,
    )
    .option('--deployment <name>', 'Worker Versioning: the Worker Deployment this worker belongs to (TJU_DEPLOYMENT)')
    .option('--build-id <id>', "Worker Versioning: this worker's build; runs it starts stay pinned to it (TJU_BUILD_ID)")
    .action(async (flags: WorkerFlags) => {
      const config = app.config;
      const deployment = deploymentOf(flags.deployment ?? process.env.TJU_DEPLOYMENT, flags.buildId ?? process.env.TJU_BUILD_ID);
      installRuntime({ metricsPort: flags.metricsPort ?? config.metricsPort }); // before any native connection
      const maxConcurrentUnits = flags.maxConcurrentUnits ?? config.maxConcurrentUnits;
      const taskQueues = flags.taskQueue
        ? flags.taskQueue
            .split(',')
            .map((q) => q.trim())
            .filter(Boolean)
        : taskQueuesOf(app.batches, config.taskQueue);
      const pool = createPool(config.databaseUrl, poolSizeFor(maxConcurrentUnits));
      try {
        const patience = parseDuration(flags.connectTimeout ?? config.connectTimeout)!;
        await untilReachable(() => checkMigrated(pool, config.databaseUrl, config.schema), patience);
        const client = await untilReachable(() => connectClient(config.temporal), patience);
        await ensureSearchAttributes(client.connection, config.namespace);
        await client.connection.close();
        await runWorkerProcess({
          temporal: config.temporal,
          namespace: config.namespace,
          taskQueues,
          defaultTaskQueue: config.taskQueue,
          batches: app.batches,
          pool,
          schema: config.schema,
          onFailure: app.onFailure,
          hookRetry: app.hookRetry,
          maxConcurrentUnits,
          maxCachedWorkflows: flags.maxCachedWorkflows ?? config.maxCachedWorkflows,
          shutdownGrace: flags.shutdownGrace ?? config.shutdownGrace,
          maxLifetime: flags.maxLifetime ?? config.maxLifetime,
          maxMemoryMb: flags.maxMemory ?? config.maxMemoryMb,
          deployment,
        });
      } finally {
        await pool.end();
      }
    });
}

/** Both a deployment and a build, or neither (then the worker is unversioned and the patching rules apply). */
function deploymentOf(name: string | undefined, buildId: string | undefined): WorkerDeployment | undefined {
  if (!name && !buildId) return undefined;
  if (!name || !buildId) throw new UserError('Worker Versioning needs both --deployment (TJU_DEPLOYMENT) and --build-id (TJU_BUILD_ID)');
  return { name, buildId };
}
