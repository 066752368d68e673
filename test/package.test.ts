// tju as another app uses it: packed with `npm pack`, installed from the tarball into a new app outside this
// repository, a TypeScript batch written there (test/fixtures/app), and run through the installed `tju` bin.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { adminUrl, dropTestDatabase } from './helpers/databases';
import { startHarness, type Harness } from './helpers/harness';

const ROOT = path.join(__dirname, '..');
let h: Harness;
let app: string;
const database = `tju_package_${process.pid}`;

beforeAll(async () => {
  h = await startHarness([], { worker: false });
  app = fs.mkdtempSync(path.join(os.tmpdir(), 'tju-app-'));
  const packed = execFileSync('npm', ['pack', '--pack-destination', app, '--silent'], { cwd: ROOT, encoding: 'utf8' });
  const tarball = path.join(app, packed.trim().split('\n').pop()!);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'acme-app', private: true }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', tarball, 'zod@^4', 'typescript@5.9', '@types/node@20'], {
    cwd: app,
    stdio: 'ignore',
  });
  fs.cpSync(path.join(__dirname, 'fixtures', 'app'), app, { recursive: true });
}, 300_000);
afterAll(async () => {
  await h.close();
  await dropTestDatabase(database);
  fs.rmSync(app, { recursive: true, force: true });
});

it('installs from its tarball and runs a TypeScript batch of the app through the installed bin', async () => {
  const env = { ...h.env, DATABASE_URL: adminUrl(database) };
  const installedBin = path.join(app, 'node_modules', '.bin', 'tju');
  const run = (args: string[]) => runBin(installedBin, args, env, app);

  const migrated = await run(['migrate']);
  expect(migrated).toMatchObject({ code: 0, stdout: expect.stringContaining('applied 0001_tju') });

  // The app's own tables, made the app's way.
  const pg = new Client({ connectionString: env.DATABASE_URL });
  pg.on('error', () => undefined);
  await pg.connect();
  try {
    await pg.query(`CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL);
      CREATE TABLE welcome_emails (user_id bigint NOT NULL REFERENCES users, email text NOT NULL, day date NOT NULL, UNIQUE (user_id, day));
      INSERT INTO users (email) VALUES ('a@example.com'), ('b@example.com'), ('c@example.com')`);

    const worker = spawn(installedBin, ['worker'], {
      cwd: app,
      env: { ...process.env, ...env, TJU_LOG_LEVEL: 'error' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        let stderr = '';
        worker.stderr!.on('data', (chunk) => (stderr += chunk) && stderr.includes('polling') && resolve());
        worker.once('exit', (code) => reject(new Error(`worker exited ${code}: ${stderr}`)));
      });
      const triggered = await run(['trigger', 'onboarding.send-welcome', '--date', '2026-11-01', '--wait']);
      expect(triggered.stdout).toContain('total 3, succeeded 3, failed 0, skipped 0');
      expect(triggered.code).toBe(0);
    } finally {
      worker.kill('SIGTERM');
    }
    expect((await pg.query('SELECT email FROM welcome_emails ORDER BY user_id')).rows.map((r) => r.email)).toEqual([
      'a@example.com',
      'b@example.com',
      'c@example.com',
    ]);
    expect((await pg.query('SELECT count(*)::int AS n FROM tju.ledger')).rows[0].n).toBe(3);
    // tju's migrate created only its own schema; the app's tables are the app's.
    const publicTables = await pg.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`);
    expect(publicTables.rows.map((r) => r.table_name)).toEqual(['users', 'welcome_emails']);
  } finally {
    await pg.end();
  }
}, 300_000);

/** The app module systems tju supports: a CommonJS app, and an ES module app with NodeNext resolution. */
const MODULE_SYSTEMS = [
  { kind: 'CommonJS', type: 'commonjs', compilerOptions: { module: 'commonjs', moduleResolution: 'node', esModuleInterop: true } },
  { kind: 'ES module', type: 'module', compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } },
];

it.each(MODULE_SYSTEMS)(
  'scaffolds an app ($kind) whose config, example batch and new batch type-check, load and pass their own tests',
  async ({ type, compilerOptions }) => {
    const fresh = fs.mkdtempSync(path.join(app, 'scaffold-'));
    fs.writeFileSync(path.join(fresh, 'package.json'), JSON.stringify({ name: `scaffolded-${type}`, private: true, type }));
    fs.symlinkSync(path.join(app, 'node_modules'), path.join(fresh, 'node_modules'));
    const installedBin = path.join(app, 'node_modules', '.bin', 'tju');

    const init = await runBin(installedBin, ['init'], {}, fresh);
    expect(init.code).toBe(0);
    for (const file of ['tju.config.ts', 'batches/index.ts', 'batches/example/hello/unit.ts', 'migrations/001_example_hello.sql']) {
      expect(fs.existsSync(path.join(fresh, file))).toBe(true);
    }
    // The app's own task queue, from its package.json.
    expect(fs.readFileSync(path.join(fresh, 'tju.config.ts'), 'utf8')).toContain(`taskQueue: 'scaffolded-${type}'`);
    // Asked again, init refuses; make:batch works in the app it wrote, from any folder of it.
    expect(await runBin(installedBin, ['init'], {}, fresh)).toMatchObject({ code: 2 });
    fs.mkdirSync(path.join(fresh, 'batches', 'example', 'hello', 'deep'), { recursive: true });
    const made = await runBin(installedBin, ['make:batch', 'billing.send-reminders'], {}, path.join(fresh, 'batches', 'example'));
    expect(made).toMatchObject({ code: 0, stdout: expect.stringContaining('listed billing.send-reminders in') });
    for (const file of ['trigger.ts', 'unit.ts', 'index.ts', 'unit.test.ts']) {
      expect(fs.existsSync(path.join(fresh, 'batches/billing/send-reminders', file))).toBe(true);
    }
    // Asked again, it writes nothing and says why.
    expect(await runBin(installedBin, ['make:batch', 'billing.send-reminders'], {}, fresh)).toMatchObject({ code: 2 });
    expect((await runBin(installedBin, ['make:batch', 'Reminders'], {}, fresh)).stderr).toMatch(
      /^tju: Reminders: a batch name is <domain>\.<name>/,
    );

    // The app's own TypeScript accepts everything written, against the installed package's types.
    fs.writeFileSync(
      path.join(fresh, 'tsconfig.json'),
      // skipLibCheck, as `tsc --init` writes it: not every type in Temporal's SDK resolves under NodeNext.
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, skipLibCheck: true, target: 'ES2022', types: ['node'], ...compilerOptions },
        include: ['**/*.ts'],
      }),
    );
    const tsc = await runBin(path.join(app, 'node_modules', '.bin', 'tsc'), ['-p', '.'], {}, fresh);
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.code).toBe(0);

    // And tju reads the config it wrote: both batches are there.
    const help = await runBin(installedBin, ['trigger', '--help'], {}, fresh);
    expect(help.stdout).toContain('example.hello');
    expect(help.stdout).toContain('billing.send-reminders');

    // `tju migrate` applies tju's schema and the migrations it wrote; then the test it wrote passes as written:
    // the unit alone, then the batch end to end through tju/testing's own dev server and an in-process worker.
    expect(fs.readdirSync(path.join(fresh, 'migrations')).sort()).toEqual(['001_example_hello.sql', '002_billing_send_reminders.sql']);
    const testDb = `${database}_scaffold_${type}`;
    await dropTestDatabase(testDb);
    const migrated = await runBin(installedBin, ['migrate'], { DATABASE_URL: adminUrl(testDb) }, fresh);
    expect(migrated).toMatchObject({ code: 0, stdout: expect.stringContaining('001_example_hello, 002_billing_send_reminders') });
    const appDb = new Client({ connectionString: adminUrl(testDb) });
    appDb.on('error', () => undefined);
    await appDb.connect();
    try {
      const { TEMPORAL_ADDRESS: _ignored, ...withoutTemporal } = process.env;
      const ran = await runBin(
        process.execPath,
        ['--import', 'jiti/register', '--test', 'batches/billing/send-reminders/unit.test.ts'],
        { ...withoutTemporal, DATABASE_URL: adminUrl(testDb) } as Record<string, string>,
        fresh,
        true,
      );
      expect(ran.stdout).toMatch(/# pass 2\n/);
      expect(ran.code).toBe(0);
      const done = await appDb.query("SELECT count(*)::int AS n FROM billing_send_reminders_done WHERE run_date = '2026-01-02'");
      // The run did its two targets and the unit test's one, which was not yet done for that date either.
      expect(done.rows[0].n).toBe(3);
    } finally {
      await appDb.end();
      await dropTestDatabase(testDb);
    }
  },
  240_000,
);

/** Runs `bin` in `cwd` with `env` added to this process's (or instead of it, with `only`). */
function runBin(bin: string, args: string[], env: Record<string, string>, cwd: string, only = false) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(bin, args, { cwd, env: { ...(only ? {} : process.env), ...env, TJU_LOG_LEVEL: 'error' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
