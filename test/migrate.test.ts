// tju's own schema: created and upgraded by `migrate`, never touching the app's tables.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { applyBillingSchema } from '../examples/billing/schema';
import { clearRun, failedTargets, listFailures, runRecords } from '../src/db/ledger';
import { createPool } from '../src/db/pool';
import { defineUnit } from '../src/unit';
import { ensureDatabase, listMigrations, migrate, migrationsDir } from '../src/db/migrate';
import { adminUrl, dropTestDatabase } from './helpers/databases';
import { tju } from './helpers/cli';

let counter = 0;
const created: string[] = [];
/** A database that does not exist yet (migrate creates it). */
function newDatabase(): string {
  const name = `tju_migrate_${process.pid}_${counter++}`;
  created.push(name);
  return adminUrl(name);
}
afterAll(async () => {
  for (const name of created) await dropTestDatabase(name);
});

async function query<T extends object>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

const tablesIn = async (url: string, schema: string) =>
  (
    await query<{ t: string }>(url, `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, [schema])
  ).map((r) => r.t);

/** tju's tables, in any schema. */
const TJU_TABLES = [
  'breaker_events',
  'breakers',
  'dashboard_sessions',
  'failures',
  'fair_queue',
  'hook_events',
  'ledger',
  'migrations',
  'operator_events',
  'run_actions',
  'run_history',
  'runs',
  'staged_chunks',
];

it('creates only its own schema in an empty database, once', async () => {
  const url = newDatabase();
  expect(await migrate(url)).toEqual(listMigrations().map((m) => m.name));
  expect(await migrate(url)).toEqual([]);
  expect(await tablesIn(url, 'tju')).toEqual(TJU_TABLES);
  expect(await tablesIn(url, 'public')).toEqual([]);
});

it('puts its tables in the schema an app chooses', async () => {
  const url = newDatabase();
  await migrate(url, { schema: 'batch_bookkeeping' });
  expect(await tablesIn(url, 'batch_bookkeeping')).toEqual(TJU_TABLES);
  expect(await tablesIn(url, 'tju')).toEqual([]);
});

it('upgrades a database at the layout before schemas in place, keeping its ledger and the app tables', async () => {
  const url = newDatabase();
  await ensureDatabase(url);
  // That layout: tju_* tables and the app's billing tables side by side in public, three migrations recorded.
  const legacy = path.join(__dirname, 'fixtures', 'legacy');
  const pool = createPool(url, 2);
  try {
    await pool.query(fs.readFileSync(path.join(legacy, '0001_tju.sql'), 'utf8'));
    await applyBillingSchema(pool);
    await pool.query(fs.readFileSync(path.join(legacy, '0003_failure_target.sql'), 'utf8'));
    await pool.query(`CREATE TABLE tju_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
      INSERT INTO tju_migrations (version, name) VALUES (1, '0001_tju'), (2, '0002_billing'), (3, '0003_failure_target');
      INSERT INTO subscriptions (customer, status, monthly_fee) VALUES ('kept', 'active', 10);
      INSERT INTO tju_ledger (batch, run_key, target_key, unit, outcome) VALUES ('billing.issue-invoices', '2026-10-01', '1', 'billing.issue-invoice', 'succeeded');
      INSERT INTO tju_failures (batch, run_key, target_key, unit, error, error_type, attempts, target)
        VALUES ('billing.issue-invoices', '2026-10-01', '2', 'billing.issue-invoice', 'no fee', 'NonRetryableError', 1, '{"key": "2"}')`);
  } finally {
    await pool.end();
  }

  expect(await migrate(url)).toEqual([
    'moved tju_ledger and tju_failures into schema tju',
    '0002_runs',
    '0003_run_history',
    '0004_hook_events',
    '0005_operators',
    '0006_staged_chunks',
    '0007_dashboard_sessions',
    '0008_breakers',
    '0009_fair_queue',
    '0010_run_traces',
  ]);

  expect(await tablesIn(url, 'public')).toEqual(['invoices', 'subscriptions']);
  expect(await tablesIn(url, 'tju')).toEqual(TJU_TABLES);
  expect(await query(url, 'SELECT r.run_key, l.target_key FROM tju.ledger l JOIN tju.runs r ON r.id = l.run_id')).toEqual([
    { run_key: '2026-10-01', target_key: '1' },
  ]);
  expect(await query(url, 'SELECT target FROM tju.failures')).toEqual([{ target: { key: '2' } }]);
  expect(await query(url, 'SELECT customer FROM subscriptions')).toEqual([{ customer: 'kept' }]);
  expect(await migrate(url)).toEqual([]);
});

it('moves a ledger keyed by batch and run key to run numbers in place: done work stays done, failures stay open', async () => {
  const url = newDatabase();
  const first = fs.mkdtempSync(path.join(os.tmpdir(), 'tju-migrations-'));
  fs.copyFileSync(path.join(migrationsDir, '0001_tju.sql'), path.join(first, '0001_tju.sql'));
  expect(await migrate(url, { dir: first })).toEqual(['0001_tju']);
  await query(
    url,
    `INSERT INTO tju.ledger (batch, run_key, target_key, unit, outcome) VALUES
      ('billing.issue-invoices', '2026-10-01', '1', 'billing.issue-invoice', 'succeeded'),
      ('billing.issue-invoices', '2026-10-01', '3', 'billing.issue-invoice', 'skipped'),
      ('billing.issue-invoices', '2026-10-02', '1', 'billing.issue-invoice', 'succeeded');
    INSERT INTO tju.failures (batch, run_key, target_key, unit, error, error_type, attempts, target)
      VALUES ('billing.issue-invoices', '2026-10-01', '2', 'billing.issue-invoice', 'no fee', 'NonRetryableError', 1, '{"key": "2"}')`,
  );

  expect(await migrate(url)).toEqual([
    '0002_runs',
    '0003_run_history',
    '0004_hook_events',
    '0005_operators',
    '0006_staged_chunks',
    '0007_dashboard_sessions',
    '0008_breakers',
    '0009_fair_queue',
    '0010_run_traces',
  ]);
  expect(await query(url, 'SELECT batch, run_key FROM tju.runs ORDER BY id')).toEqual([
    { batch: 'billing.issue-invoices', run_key: '2026-10-01' },
    { batch: 'billing.issue-invoices', run_key: '2026-10-02' },
  ]);
  expect(await query(url, 'SELECT run_id::int, target_key, skipped FROM tju.ledger ORDER BY 1, 2')).toEqual([
    { run_id: 1, target_key: '1', skipped: false },
    { run_id: 1, target_key: '3', skipped: true },
    { run_id: 2, target_key: '1', skipped: false },
  ]);

  const pool = createPool(url, 2);
  try {
    const ref = { batch: 'billing.issue-invoices', runKey: '2026-10-01' };
    expect(await runRecords(pool, ref)).toEqual({ ledger: 2, failures: 1 });
    expect(await failedTargets(pool, { ...ref, after: null, limit: 10 })).toEqual([{ key: '2' }]);
    // A failure recorded before groups existed has its group too.
    expect(await query(url, 'SELECT error_group FROM tju.failures')).toEqual([{ error_group: 'NonRetryableError: no fee' }]);
    // Work recorded before the move is still done: the unit does not run again under its key.
    let ran = 0;
    const unit = defineUnit<Record<string, never>>({ name: 'billing.issue-invoice', run: async () => void ran++ });
    expect(await unit.execute(pool, {}, { idempotencyKey: { ...ref, targetKey: '1' } })).toEqual({ outcome: 'skipped' });
    expect(await unit.execute(pool, {}, { idempotencyKey: { ...ref, targetKey: '2' } })).toEqual({ outcome: 'succeeded' });
    expect(ran).toBe(1);
    expect(await listFailures(pool, ref)).toEqual([]); // target 2 succeeded since
    expect(await clearRun(pool, ref)).toEqual({ ledger: 3, failures: 0 });
    expect(await runRecords(pool, { batch: ref.batch, runKey: '2026-10-02' })).toEqual({ ledger: 1, failures: 0 });
  } finally {
    await pool.end();
  }
});

it("refuses, in one line and writing nothing, to work on a database that lacks this release's migrations", async () => {
  const url = newDatabase();
  const older = fs.mkdtempSync(path.join(os.tmpdir(), 'tju-migrations-'));
  for (const migration of listMigrations().slice(0, -1)) fs.copyFileSync(migration.file, path.join(older, path.basename(migration.file)));
  await migrate(url, { dir: older });
  const latest = listMigrations().at(-1)!.name;

  // A command that would delete (a prune) and a worker that would run units, before `tju migrate`.
  for (const args of [['prune', '--older-than', '1ms', '--yes'], ['worker']]) {
    const refused = await tju(args, { DATABASE_URL: url, TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(refused).toMatchObject({ code: 2, stdout: '' });
    expect(refused.stderr.trim()).toBe(
      `tju: ${new URL(url).host}${new URL(url).pathname} lacks tju's migration(s) ${latest}: run \`npx tju migrate\``,
    );
  }
  expect(await query(url, 'SELECT count(*)::int AS n FROM tju.runs')).toEqual([{ n: 0 }]);

  expect(await migrate(url)).toEqual([latest]);
});

it('refuses a migration edited after it was applied', async () => {
  const url = newDatabase();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tju-migrations-'));
  for (const file of fs.readdirSync(migrationsDir)) fs.copyFileSync(path.join(migrationsDir, file), path.join(dir, file));
  await migrate(url, { dir });
  fs.appendFileSync(path.join(dir, '0001_tju.sql'), '\n-- an afterthought\n');
  await expect(migrate(url, { dir })).rejects.toThrow(/migration 0001_tju was changed after it was applied/);
});

it('lets several workers migrate at once: each migration applied once', async () => {
  const url = newDatabase();
  const results = await Promise.all([migrate(url), migrate(url), migrate(url)]);
  expect(results.flat()).toEqual(listMigrations().map((m) => m.name));
  expect(await query(url, 'SELECT count(*)::int AS n FROM tju.migrations')).toEqual([{ n: listMigrations().length }]);
});

it('waits for a PostgreSQL that is not up yet, for TJU_CONNECT_TIMEOUT, as a one-shot set-up container must', async () => {
  // A port with nothing behind it at first; a proxy to the real server opens there once the CLI has said it
  // cannot reach it and will try again.
  const server = net.createServer((socket) => {
    const upstream = net.connect(5432, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    const close = () => (socket.destroy(), upstream.destroy());
    socket.on('error', close);
    upstream.on('error', close);
  });
  const port = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const url = new URL(newDatabase());
  url.host = `127.0.0.1:${port}`;
  let opened = false;
  const open = (stderr: string) => {
    if (opened || !/cannot reach PostgreSQL.*; trying again/.test(stderr)) return;
    opened = true;
    server.listen(port, '127.0.0.1');
  };
  try {
    const result = await tju(['migrate'], { DATABASE_URL: url.toString(), TJU_CONNECT_TIMEOUT: '60s' }, undefined, open);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/cannot reach PostgreSQL.*; trying again in 1s/);
    expect(result.stdout).toMatch(/^applied .*001_/);
  } finally {
    server.close();
  }
  // Without patience it is one line and exit 2, at once.
  const now = await tju(['migrate'], { DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/x` });
  expect(now.code).toBe(2);
  expect(now.stderr.trim().split('\n')).toHaveLength(1);
});
