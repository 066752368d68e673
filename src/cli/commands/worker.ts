import type { Command } from 'commander';
import { DEFAULT_TEMPORAL_ADDRESS, loadConfig } from '../../config';
import type { Batch } from '../../definitions';
import { checkReachable, createPool } from '../../db/pool';
import { connectClient } from '../../temporal/connect';
import { ensureSearchAttributes } from '../../temporal/searchAttributes';
import { runWorkerProcess, taskQueuesOf } from '../../temporal/workerProcess';
import { duration, positiveInt } from '../parsers';

interface WorkerFlags {
  taskQueue?: string;
  maxConcurrentUnits?: number;
  maxCachedWorkflows?: number;
  shutdownGrace?: string;
  maxLifetime?: string;
  maxMemory?: number;
}

export function registerWorker(program: Command, batches: readonly Batch[]): void {
  program
    .command('worker')
    .description('run the workflows and units of every batch; SIGINT/SIGTERM drain it and exit 0')
    .option('--task-queue <names>', 'comma-separated queues to poll (default: TJU_TASK_QUEUE and each batch\'s own)')
    .option('--max-concurrent-units <n>', 'units at once per queue (TJU_MAX_CONCURRENT_UNITS, default 20)', positiveInt)
    .option('--max-cached-workflows <n>', 'workflows kept in memory (TJU_MAX_CACHED_WORKFLOWS)', positiveInt)
    .option('--shutdown-grace <duration>', 'time in-flight units get to finish on shutdown (TJU_SHUTDOWN_GRACE, default 30s)', duration)
    .option('--max-lifetime <duration>', 'drain and exit after this long (TJU_MAX_LIFETIME)', duration)
    .option('--max-memory <MB>', 'drain and exit once RSS passes this (TJU_MAX_MEMORY_MB)', positiveInt)
    .action(async (flags: WorkerFlags) => {
      const config = loadConfig();
      const maxConcurrentUnits = flags.maxConcurrentUnits ?? config.maxConcurrentUnits;
      const address = config.temporalAddress ?? DEFAULT_TEMPORAL_ADDRESS;
      const taskQueues = flags.taskQueue
        ? flags.taskQueue.split(',').map((q) => q.trim()).filter(Boolean)
        : taskQueuesOf(batches, config.taskQueue);
      const pool = createPool(config.databaseUrl, maxConcurrentUnits * taskQueues.length + 2);
      try {
        await checkReachable(pool, config.databaseUrl);
        const client = await connectClient(address, config.namespace);
        await ensureSearchAttributes(client.connection, config.namespace);
        await client.connection.close();
        await runWorkerProcess({
          address,
          namespace: config.namespace,
          taskQueues,
          batches,
          pool,
          maxConcurrentUnits,
          maxCachedWorkflows: flags.maxCachedWorkflows ?? config.maxCachedWorkflows,
          shutdownGrace: flags.shutdownGrace ?? config.shutdownGrace,
          maxLifetime: flags.maxLifetime ?? config.maxLifetime,
          maxMemoryMb: flags.maxMemory ?? config.maxMemoryMb,
        });
      } finally {
        await pool.end();
      }
    });
}
