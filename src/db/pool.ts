import { Pool } from 'pg';
import { UserError } from '../errors';

export function createPool(databaseUrl: string, max = 10): Pool {
  const pool = new Pool({ connectionString: databaseUrl, max });
  // An idle client losing its connection must not crash the process; the next checkout reconnects.
  pool.on('error', () => undefined);
  return pool;
}

/** Fails with a one-line UserError when the database cannot be reached. */
export async function checkReachable(pool: Pool, databaseUrl: string): Promise<void> {
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    throw unreachable(databaseUrl, err);
  }
}

/** The one-line error for a database that cannot be reached. */
export function unreachable(databaseUrl: string, err: unknown): UserError {
  return new UserError(`cannot reach PostgreSQL at ${describeUrl(databaseUrl)}: ${(err as Error).message}`);
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
