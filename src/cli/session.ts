import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { uiUrlFor, type Config } from '../config';
import type { CliApp } from './app';
import type { Batch } from '../batch';
import { createPool } from '../db/pool';
import { checkMigrated } from '../db/migrate';
import { connectClient } from '../temporal/connect';
import { TjuClient } from '../temporal/client';
import { startTracing } from '../telemetry/tracing';

export interface Session {
  config: Config;
  address: string;
  client: Client;
  tju: TjuClient;
  close(): Promise<void>;
}

/** A client on the configured Temporal server, for commands that start or inspect runs. */
export async function openSession(batches: readonly Batch[], config: Config, db?: Pool): Promise<Session> {
  const { address } = config.temporal;
  // OTEL_* in the environment: what this command starts opens a run's trace (flushed when it closes).
  const tracing = await startTracing();
  const client = await connectClient(config.temporal);
  const uiUrl = uiUrlFor(config, address);
  const tju = new TjuClient({ client, batches, taskQueue: config.taskQueue, uiUrl, db, schema: config.schema });
  const close = async () => {
    await client.connection.close();
    await tracing?.shutdown();
  };
  return { config, address, client, tju, close };
}

/** Runs `fn` with a session, closing it after; with `db`, its client reads run history there too. */
export async function withSession<T>(app: CliApp, fn: (session: Session) => Promise<T>, db?: Pool): Promise<T> {
  const session = await openSession(app.batches, app.config, db);
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}

/** Runs `fn` with a pool on DATABASE_URL, failing with one line when the database cannot be reached. */
export async function withDatabase<T>(app: CliApp, fn: (pool: Pool) => Promise<T>): Promise<T> {
  const { config } = app;
  const pool = createPool(config.databaseUrl, 2);
  try {
    await checkMigrated(pool, config.databaseUrl, config.schema);
    return await fn(pool);
  } finally {
    await pool.end();
  }
}
