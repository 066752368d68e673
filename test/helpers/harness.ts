import { Client, Connection } from '@temporalio/client';
import type Long from 'long';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { Pool } from 'pg';
import type { Batch } from '../../src/batch';
import { createPool } from '../../src/db/pool';
import { TjuClient } from '../../src/temporal/client';
import { installRuntime } from '../../src/temporal/runtime';
import { ensureSearchAttributes } from '../../src/temporal/searchAttributes';
import { createUnitWorkers, createWorker, type WorkerDeployment } from '../../src/temporal/worker';
import { startHookDelivery } from '../../src/hooks/delivery';
import { createTestDatabase, dropTestDatabase } from './databases';

export interface Harness {
  pool: Pool;
  databaseUrl: string;
  address: string;
  /** A Temporal namespace of its own: workflow IDs (`<batch>/<runKey>`) never meet another file's. */
  namespace: string;
  taskQueue: string;
  /** The environment that points `tju` (and a worker process) at this harness. */
  env: Record<string, string>;
  client: Client;
  tju: TjuClient;
  /** Starts a worker on this harness's task queue and database; `stop` waits for it to drain. */
  startWorker(options?: {
    maxConcurrentUnits?: number;
    taskQueue?: string;
    deployment?: WorkerDeployment;
    /** Another workflow bundle than the suite's (one with tracing's interceptors). */
    workflowBundle?: { code: string };
  }): Promise<{ worker: Worker; stop(): Promise<void> }>;
  close(): Promise<void>;
}

let harnesses = 0;

/** A database and a Temporal namespace of its own, a client, and (by default) a running worker for the given batches. */
export async function startHarness(batches: readonly Batch[], options: { worker?: boolean } = {}): Promise<Harness> {
  const address = process.env.TEMPORAL_ADDRESS!;
  const database = await createTestDatabase();
  const pool = createPool(database.url, 20);
  const connection = await Connection.connect({ address });
  const name = `test-${process.pid}-${Date.now().toString(36)}-${harnesses++}`;
  const namespace = name;
  await connection.workflowService.registerNamespace({
    namespace,
    // protobufjs takes a plain number where its types say Long.
    workflowExecutionRetentionPeriod: { seconds: 86_400 as unknown as Long },
  });
  await ensureSearchAttributes(connection, namespace);
  const client = new Client({ connection, namespace });
  const taskQueue = name;
  const tju = new TjuClient({ client, batches, taskQueue, db: pool });
  const workers: Array<() => Promise<void>> = [];

  const startWorker: Harness['startWorker'] = async ({
    maxConcurrentUnits = 20,
    taskQueue: queue = taskQueue,
    deployment,
    workflowBundle,
  } = {}) => {
    // Only where a worker runs: the runtime shuts itself down when its last worker closes, and one that
    // never had a worker would keep the test process alive.
    installRuntime();
    const workerConnection = await NativeConnection.connect({ address });
    // As `tju worker` does: hooks are called by the worker, apart from the runs.
    const hooks = startHookDelivery({ pool, batches, pollMs: 200 });
    const shared = { connection: workerConnection, namespace, taskQueue: queue, batches, pool, maxConcurrentUnits, deployment };
    const worker = await createWorker({
      ...shared,
      onHookQueued: hooks.wake,
      workflowBundle: workflowBundle ?? { codePath: process.env.TJU_TEST_WORKFLOW_BUNDLE! },
    });
    // The queues of units that have their own (a rate limit), as `tju worker` polls them.
    const units = await createUnitWorkers(shared);
    const running = Promise.all([worker, ...units].map((w) => w.run()));
    let stopped: Promise<void> | undefined;
    const stop = () =>
      (stopped ??= (async () => {
        for (const w of [worker, ...units]) if (w.getState() === 'RUNNING') w.shutdown();
        await running;
        await hooks.stop();
        await workerConnection.close();
      })());
    workers.push(stop);
    return { worker, stop };
  };

  if (options.worker !== false) await startWorker();

  return {
    pool,
    databaseUrl: database.url,
    address,
    namespace,
    taskQueue,
    env: { TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace, TJU_TASK_QUEUE: taskQueue, DATABASE_URL: database.url },
    client,
    tju,
    startWorker,
    async close() {
      await Promise.all(workers.map((stop) => stop()));
      await connection.close();
      await pool.end();
      await dropTestDatabase(database.name);
    },
  };
}
