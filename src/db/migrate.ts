import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { projectRoot } from '../paths';
import { unreachable } from './pool';

export const migrationsDir = path.join(projectRoot, 'migrations');

async function connect(databaseUrl: string): Promise<Client> {
  const client = new Client({ connectionString: databaseUrl });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client;
  } catch (err) {
    throw unreachable(databaseUrl, err);
  }
}

/** Creates the URL's database when it is missing, through the server's `postgres` database. */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const admin = await connect(url.toString());
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      await admin.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`).catch((err: { code?: string }) => {
        if (err.code !== '42P04') throw err; // created meanwhile by a concurrent start
      });
    }
  } finally {
    await admin.end();
  }
}

export interface Migration {
  version: number;
  name: string;
  file: string;
}

export function listMigrations(dir = migrationsDir): Migration[] {
  return fs
    .readdirSync(dir)
    .filter((file) => /^\d+_[\w-]+\.sql$/.test(file))
    .map((file) => ({ version: Number(file.split('_')[0]), name: file.replace(/\.sql$/, ''), file: path.join(dir, file) }))
    .sort((a, b) => a.version - b.version);
}

/**
 * Applies the migrations not yet recorded, each in its own transaction with its record, in version
 * order. An advisory lock lets several workers start at once. Returns the names applied.
 */
export async function migrate(databaseUrl: string, dir = migrationsDir): Promise<string[]> {
  await ensureDatabase(databaseUrl);
  const client = await connect(databaseUrl);
  const applied: string[] = [];
  try {
    await client.query(`SELECT pg_advisory_lock(hashtext('tju_migrations'))`);
    await client.query(`CREATE TABLE IF NOT EXISTS tju_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM tju_migrations');
    const done = new Set(rows.map((row) => row.version));
    for (const migration of listMigrations(dir)) {
      if (done.has(migration.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(fs.readFileSync(migration.file, 'utf8'));
        await client.query('INSERT INTO tju_migrations (version, name) VALUES ($1, $2)', [
          migration.version,
          migration.name,
        ]);
        await client.query('COMMIT');
        applied.push(migration.name);
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${migration.name} failed: ${(err as Error).message}`);
      }
    }
  } finally {
    await client.end(); // ends the session, releasing the advisory lock
  }
  return applied;
}
