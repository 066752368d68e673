// `tju/testing`: run an app's batches end to end in its own tests, against a test database and a Temporal
// dev server that this module starts (or one the test names), with a worker in the test's own process.
import type { Client } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import type { Pool } from 'pg';
import type { Batch } from './batch';
import { listFailures, type StoredFailure } from './db/ledger';
import { migrate } from './db/migrate';
import { createPool } from './db/pool';
import { DEFAULT_SCHEMA } from './db/schema';
import { TjuClient } from './temporal/client';
import { connectClient, connectWorker } from './temporal/connect';
import { startDevServerOnFreePorts, type DevServer } from './temporal/devServer';
import { ensureSearchAttributes } from './temporal/searchAttributes';
import { createUnitWorkers, createWorker } from './temporal/worker';
import { startHookDelivery } from './hooks/delivery';
import type { RunSummary } from './contracts/types';

export { ensureTemporalCli, freePort, isTemporalUp, startDevServer, type DevServer, type DevServerOptions } from './temporal/devServer';

export interface TestEnvOptions {
  batches: readonly Batch[];
  /** The test database; tju's schema is migrated into it. Default: `DATABASE_URL`. */
  databaseUrl?: string;
  /** tju's schema in that database (default `tju`). */
  schema?: string;
  /** A running Temporal to use instead of a fresh in-memory dev server (which needs no setup but takes ~2 s). */
  temporalAddress?: string;
  namespace?: string;
}

export interface TestEnv {
  /** Starts the batch's run for these params and waits for its summary. */
  run(batchName: string, params?: Record<string, unknown>): Promise<RunSummary>;
  /** Runs the failed targets of a finished run again and waits for the retry's summary. */
  retry(batchName: string, params?: Record<string, unknown>): Promise<RunSummary>;
  /** The failure records of a run, one per target that gave up. */
  failures(batchName: string, params?: Record<string, unknown>): Promise<StoredFailure[]>;
  /** The app's database, for arranging data and asserting effects. */
  pool: Pool;
  client: TjuClient;
  /** Stops the worker, closes connections and stops the dev server it started. */
  close(): Promise<void>;
}

/**
 * A worker for `batches` on its own task queue, and a client to run them: what an app's test needs to check
 * a batch's effects by SQL after a real run (trigger, jobs, units, ledger, failure records).
 */
export async function createTestEnv(options: TestEnvOptions): Promise<TestEnv> {
  const databaseUrl = options.databaseUrl ?? process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('createTestEnv: no database (pass databaseUrl or set DATABASE_URL)');
  const schema = options.schema ?? DEFAULT_SCHEMA;
  const namespace = options.namespace ?? 'default';
  const taskQueue = `tju-test-${process.pid}-${Date.now().toString(36)}`;
  // A test's batches all run on the test's own queue, whatever queue their definitions name.
  const batches = options.batches.map((batch) => ({ ...batch, taskQueue: undefined }));
  const stack: Array<() => Promise<unknown>> = [];
  const close = async () => {
    while (stack.length) await stack.pop()!().catch(() => undefined);
  };

  try {
    await migrate(databaseUrl, { schema });
    const pool = createPool(databaseUrl, 10);
    stack.push(() => pool.end());

    let address = options.temporalAddress;
    if (!address) {
      const server: DevServer = await startDevServerOnFreePorts();
      stack.push(() => server.stop());
      address = server.address;
    }
    const target = { address, namespace };
    const temporal: Client = await connectClient(target);
    stack.push(() => temporal.connection.close());
    if (options.temporalAddress) await ensureSearchAttributes(temporal.connection, namespace);

    const connection: NativeConnection = await connectWorker(target);
    stack.push(() => connection.close());
    // Hooks are called by the worker, apart from the runs, as under `tju worker`.
    const hooks = startHookDelivery({ pool, batches, schema, pollMs: 200 });
    stack.push(() => hooks.stop());
    const workers: Worker[] = [
      await createWorker({ connection, namespace, taskQueue, batches, pool, schema, onHookQueued: hooks.wake }),
      ...(await createUnitWorkers({ connection, namespace, taskQueue, batches, pool, schema })),
    ];
    const running = Promise.all(workers.map((worker) => worker.run()));
    stack.push(async () => {
      for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    });

    const client = new TjuClient({ client: temporal, batches, taskQueue });
    return {
      pool,
      client,
      close,
      run: async (batchName, params = {}) => (await client.trigger(batchName, params)).wait(),
      retry: async (batchName, params = {}) => (await client.retry(batchName, params)).wait(),
      failures: async (batchName, params = {}) => {
        const { batch, runKey } = client.resolve(batchName, params);
        return listFailures(pool, { batch: batch.name, runKey }, { schema });
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}
