import { type Command, InvalidArgumentError } from 'commander';
import { DEFAULT_TEMPORAL_ADDRESS, loadConfig } from '../../config';
import type { Batch } from '../../definitions';
import { checkReachable, createPool } from '../../db/pool';
import { connectClient, connectWorker } from '../../temporal/connect';
import { ensureSearchAttributes } from '../../temporal/searchAttributes';
import { createWorker } from '../../temporal/worker';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

export function registerWorker(program: Command, batches: readonly Batch[]): void {
  program
    .command('worker')
    .description('run the trigger and job workflows and the units of every batch; SIGINT/SIGTERM stop it')
    .option('--task-queue <name>', 'task queue to poll (env TJU_TASK_QUEUE, default tju)')
    .option('--max-concurrent-units <n>', 'units run at once (env TJU_MAX_CONCURRENT_UNITS, default 20)', positiveInt)
    .action(async (options: { taskQueue?: string; maxConcurrentUnits?: number }) => {
      const config = loadConfig();
      const taskQueue = options.taskQueue ?? config.taskQueue;
      const maxConcurrentUnits = options.maxConcurrentUnits ?? config.maxConcurrentUnits;
      const address = config.temporalAddress ?? DEFAULT_TEMPORAL_ADDRESS;
      const pool = createPool(config.databaseUrl, maxConcurrentUnits);
      try {
        await checkReachable(pool, config.databaseUrl);
        const client = await connectClient(address, config.namespace);
        await ensureSearchAttributes(client.connection, config.namespace);
        await client.connection.close();
        const connection = await connectWorker(address);
        const worker = await createWorker({
          connection,
          namespace: config.namespace,
          taskQueue,
          batches,
          pool,
          maxConcurrentUnits,
        });
        console.error(`tju worker polling ${taskQueue} on ${address} (${maxConcurrentUnits} units at once)`);
        // Temporal's runtime turns SIGINT/SIGTERM into a graceful shutdown: run() returns once drained.
        await worker.run();
        await connection.close();
        console.error('tju worker stopped');
      } finally {
        await pool.end();
      }
    });
}
