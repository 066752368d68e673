import type { Pool, PoolClient } from 'pg';
import { pgModule } from '../util/lazy';
import { UnreachableError, UserError } from '../errors';
import { logger } from '../log';
import { tjuTables } from './schema';

/** How long a query waits for a free connection of the pool before it fails with a clear error. */
export const CONNECTION_WAIT_MS = 10_000;

/**
 * A pool whose clients never crash the process when PostgreSQL drops their connection (a restart, a
 * failover, an idle-connection reaper, `pg_terminate_backend`). pg-pool listens for errors only on idle
 * clients; a checked-out client would emit an unhandled 'error'. The query in flight fails instead, and a
 * client released with that error is discarded, so the pool opens a fresh connection next time.
 */
export function createPool(databaseUrl: string, max = 10, { connectionTimeoutMillis = CONNECTION_WAIT_MS } = {}): Pool {
  // A bounded wait for a free connection: a unit must not spend its own timeout waiting for one unseen.
  return listened(new (pgModule().Pool)({ connectionString: databaseUrl, max, connectionTimeoutMillis }));
}

/** A pool of its own to the database `pool` reaches, of `max` connections, every statement limited to `statementTimeoutMs`. */
export function boundedPool(pool: Pool, { max, statementTimeoutMs }: { max: number; statementTimeoutMs: number }): Pool {
  return listened(new (pgModule().Pool)({ ...pool.options, max, statement_timeout: statementTimeoutMs }));
}

function listened(pool: Pool): Pool {
  pool.on('error', (err) => logger.warn({ err: err.message }, 'an idle PostgreSQL connection was lost'));
  pool.on('connect', (client: PoolClient) =>
    client.on('error', (err) => logger.warn({ err: err.message }, 'a PostgreSQL connection in use was lost')),
  );
  return pool;
}

/** No connection of the pool came free in time: passing, like a lost one, and said plainly. */
export const POOL_EXHAUSTED = 'TJU_POOL_EXHAUSTED';

/** A client of the pool, or an error that says how long it waited and how full the pool is. */
export async function connectWithin(pool: Pool): Promise<PoolClient> {
  try {
    return await pool.connect();
  } catch (err) {
    if (!/timeout exceeded when trying to connect/.test((err as Error).message)) throw err;
    const message =
      `no PostgreSQL connection came free within ${pool.options.connectionTimeoutMillis! / 1000}s: all ${pool.options.max} ` +
      `of the pool are in use (its size follows TJU_MAX_CONCURRENT_UNITS)`;
    throw Object.assign(new Error(message, { cause: err }), { code: POOL_EXHAUSTED });
  }
}

// SQLSTATE classes and codes that mean "the connection or the server went away", not "the SQL was wrong".
const LOST_CONNECTION_STATES = /^(08...|57P01|57P02|57P03|53300)$/;
const LOST_CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', POOL_EXHAUSTED]);
const LOST_CONNECTION_MESSAGES = /Connection terminated|not queryable|timeout exceeded when trying to connect/;

/** True for an error that says the database connection was lost or could not be made, not that a statement failed. */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (LOST_CONNECTION_STATES.test(code) || LOST_CONNECTION_CODES.has(code))) return true;
  return LOST_CONNECTION_MESSAGES.test(err.message);
}

/** The versions of tju's migrations applied; a one-line UserError when the database cannot be reached or tju's tables are not there. */
export async function checkReachable(pool: Pool, databaseUrl: string, schema?: string): Promise<number[]> {
  try {
    const { rows } = await pool.query<{ version: number }>(`SELECT version FROM ${tjuTables(schema).migrations}`);
    return rows.map((row) => row.version);
  } catch (err) {
    if ((err as { code?: string }).code === UNDEFINED_TABLE) {
      throw new UserError(`${describeUrl(databaseUrl)} has no tju tables: run \`npx tju migrate\``);
    }
    throw unreachable(databaseUrl, err);
  }
}

const UNDEFINED_TABLE = '42P01';
const INVALID_CATALOG_NAME = '3D000';

/** The one-line error for a database that cannot be reached. */
export function unreachable(databaseUrl: string, err: unknown): UserError {
  if ((err as { code?: string }).code === INVALID_CATALOG_NAME) {
    return new UserError(`${(err as Error).message} at ${describeUrl(databaseUrl)}: run \`npx tju migrate\` to create it`);
  }
  const message = `cannot reach PostgreSQL at ${describeUrl(databaseUrl)}: ${(err as Error).message}`;
  return isConnectionError(err) ? new UnreachableError(message) : new UserError(message);
}

/** host:port/database, without credentials, for messages. */
export function describeUrl(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    return `${url.hostname}:${url.port || 5432}${url.pathname}`;
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}
