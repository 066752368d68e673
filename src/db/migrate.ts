import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Client, Pool } from 'pg';
import { pgModule } from '../util/lazy';
import { UserError } from '../errors';
import { projectRoot } from '../paths';
import { checkReachable, describeUrl, unreachable } from './pool';
import { parseDuration } from '../duration';
import { untilReachable } from '../util/untilReachable';
import { DEFAULT_SCHEMA, quoteIdent } from './schema';

export const migrationsDir = path.join(projectRoot, 'migrations');

async function connect(databaseUrl: string): Promise<Client> {
  const client = new (pgModule().Client)({ connectionString: databaseUrl });
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
        // Created meanwhile by a concurrent start: "already exists", or the catalog's unique index said so first.
        if (err.code !== '42P04' && err.code !== '23505') throw err;
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
  /** sha256 of the file as written: an applied migration whose file changed is refused. */
  checksum: string;
}

export function listMigrations(dir = migrationsDir): Migration[] {
  return fs
    .readdirSync(dir)
    .filter((file) => /^\d+_[\w-]+\.sql$/.test(file))
    .map((file) => {
      const full = path.join(dir, file);
      const checksum = crypto.createHash('sha256').update(fs.readFileSync(full)).digest('hex');
      return { version: Number(file.split('_')[0]), name: file.replace(/\.sql$/, ''), file: full, checksum };
    })
    .sort((a, b) => a.version - b.version);
}

/**
 * Refuses, in one line, a database tju cannot work with yet: unreachable, without tju's tables, or with some of
 * this release's migrations not applied — its workers would fail runs mid-way on a table that is not there.
 */
export async function checkMigrated(pool: Pool, databaseUrl: string, schema?: string): Promise<void> {
  const applied = new Set(await checkReachable(pool, databaseUrl, schema));
  const pending = listMigrations().filter((migration) => !applied.has(migration.version));
  if (pending.length) {
    const names = pending.map((migration) => migration.name).join(', ');
    throw new UserError(`${describeUrl(databaseUrl)} lacks tju's migration(s) ${names}: run \`npx tju migrate\``);
  }
}

export interface MigrateOptions {
  /** The PostgreSQL schema of tju's tables; default `tju`. */
  schema?: string;
  dir?: string;
  /** Keep trying to reach PostgreSQL for this long (a duration like `2m`, as TJU_CONNECT_TIMEOUT); default at once. */
  connectTimeout?: string;
}

/**
 * Creates tju's schema and applies its pending migrations, each in its own transaction with its record,
 * in version order, under an advisory lock (several workers may start at once). Touches nothing outside
 * tju's schema, except to move tju's own tables out of `public` from a database at the layout before schemas.
 * Returns what it did.
 */
export async function migrate(
  databaseUrl: string,
  { schema = DEFAULT_SCHEMA, dir = migrationsDir, connectTimeout = '0s' }: MigrateOptions = {},
): Promise<string[]> {
  await untilReachable(() => ensureDatabase(databaseUrl), parseDuration(connectTimeout) ?? 0);
  const client = await connect(databaseUrl);
  const s = quoteIdent(schema);
  const done: string[] = [];
  const migrations = listMigrations(dir);
  try {
    await client.query(`SELECT pg_advisory_lock(hashtext('tju_migrations'))`);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.migrations (
      version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    if (await upgradeFromPublic(client, s, migrations[0])) done.push(`moved tju_ledger and tju_failures into schema ${schema}`);
    done.push(...(await applyPending(client, `${s}.migrations`, migrations, (sql) => sql.replaceAll('{{schema}}', s))));
  } finally {
    await client.end(); // ends the session, releasing the advisory lock
  }
  return done;
}

/**
 * Applies an app's own migrations (`NNN_name.sql` in `dir`) after tju's, the same way: in version order, each
 * once, in its own transaction, recorded with its checksum in tju's schema (`app_migrations`), under an
 * advisory lock. Returns the names applied.
 */
export async function migrateApp(
  databaseUrl: string,
  dir: string,
  { schema = DEFAULT_SCHEMA }: { schema?: string } = {},
): Promise<string[]> {
  if (!fs.existsSync(dir)) throw new UserError(`${dir}: the config's migrations folder does not exist`);
  const client = await connect(databaseUrl);
  const s = quoteIdent(schema);
  try {
    await client.query(`SELECT pg_advisory_lock(hashtext('tju_app_migrations'))`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.app_migrations (
      version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    return await applyPending(client, `${s}.app_migrations`, listMigrations(dir), (sql) => sql);
  } finally {
    await client.end();
  }
}

/** The migrations not yet recorded in `table`, applied and recorded one transaction each; an edited applied one is refused. */
async function applyPending(client: Client, table: string, migrations: Migration[], render: (sql: string) => string): Promise<string[]> {
  const done: string[] = [];
  const { rows } = await client.query<{ version: number; name: string; checksum: string }>(`SELECT * FROM ${table}`);
  const applied = new Map(rows.map((row) => [row.version, row]));
  for (const migration of migrations) {
    const recorded = applied.get(migration.version);
    if (recorded) {
      if (recorded.checksum !== migration.checksum) {
        throw new UserError(`migration ${migration.name} was changed after it was applied to this database; add a new migration instead`);
      }
      continue;
    }
    await client.query('BEGIN');
    try {
      await client.query(render(fs.readFileSync(migration.file, 'utf8')));
      await client.query(`INSERT INTO ${table} (version, name, checksum) VALUES ($1, $2, $3)`, [
        migration.version,
        migration.name,
        migration.checksum,
      ]);
      await client.query('COMMIT');
      done.push(migration.name);
    } catch (err) {
      await client.query('ROLLBACK');
      throw new UserError(`migration ${migration.name} failed: ${(err as Error).message}`, { cause: err });
    }
  }
  return done;
}

/**
 * A database from before tju had a schema of its own keeps `tju_ledger`, `tju_failures` and `tju_migrations`
 * in `public`: move the first two in (their rows are the ledger of past runs), record the first migration as
 * applied, and drop the old record. The app's tables, which old migrations created beside them, stay the app's.
 */
async function upgradeFromPublic(client: Client, s: string, first: Migration): Promise<boolean> {
  const { rows } = await client.query<{ legacy: boolean; fresh: boolean }>(
    `SELECT to_regclass('public.tju_ledger') IS NOT NULL AS legacy, NOT EXISTS (SELECT 1 FROM ${s}.migrations) AS fresh`,
  );
  if (!rows[0].legacy || !rows[0].fresh) return false;
  await client.query('BEGIN');
  try {
    await client.query(`ALTER TABLE public.tju_ledger SET SCHEMA ${s}`);
    await client.query(`ALTER TABLE ${s}.tju_ledger RENAME TO ledger`);
    await client.query(`ALTER TABLE public.tju_failures SET SCHEMA ${s}`);
    await client.query(`ALTER TABLE ${s}.tju_failures RENAME TO failures`);
    await client.query(`ALTER TABLE ${s}.failures ADD COLUMN IF NOT EXISTS target jsonb NOT NULL DEFAULT '{}'`);
    await client.query(`ALTER TABLE ${s}.failures ALTER COLUMN target SET DEFAULT '{}'`);
    await client.query(`INSERT INTO ${s}.migrations (version, name, checksum) VALUES ($1, $2, $3)`, [
      first.version,
      first.name,
      first.checksum,
    ]);
    await client.query('DROP TABLE IF EXISTS public.tju_migrations');
    await client.query('COMMIT');
    return true;
  } catch (err) {
    await client.query('ROLLBACK');
    throw new Error(`moving tju's tables into their schema failed: ${(err as Error).message}`, { cause: err });
  }
}
