// The `tju` binary: bad input is one line and exit 2 with nothing started or written; good input works.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { issueInvoices } from '../examples/billing/batches/issue-invoices';
import { listMigrations } from '../src/db/migrate';
import { adminUrl, dropTestDatabase } from './helpers/databases';
import { startHarness, type Harness } from './helpers/harness';
import { insertNoFeeSubscriptions, insertSubscriptions } from './helpers/billing';
import { billingCli, tju, type CliResult } from './helpers/cli';
import { TjuClient } from '../src/temporal/client';

let h: Harness;
let env: Record<string, string>;
beforeAll(async () => {
  h = await startHarness([issueInvoices]);
  env = h.env;
});
afterAll(() => h.close());

// Scoped to this file's task queue: other test files use the same dev server and dates.
const countRuns = async (runKey: string) =>
  (await h.client.workflow.count(`TaskQueue = '${h.taskQueue}' AND TjuBatch = 'billing.issue-invoices' AND TjuRunKey = '${runKey}'`)).count;

function expectOneLineError(result: CliResult, pattern: RegExp) {
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^tju: /);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('bad input', () => {
  it('refuses an unknown batch', async () => {
    expectOneLineError(await tju(['trigger', 'billing.nope', '--date', '2026-11-01'], env), /unknown command 'billing.nope'/);
  });

  it.each([
    ['2026-13-01', /date: not a calendar date \(got "2026-13-01"\)/],
    ['2026-02-30', /date: not a calendar date/],
    ['01/11/2026', /date: expected a date as YYYY-MM-DD/],
  ])('refuses the malformed date %s and starts nothing', async (date, message) => {
    expectOneLineError(await tju(['trigger', 'billing.issue-invoices', '--date', date], env), message);
    expect(await countRuns(date)).toBe(0);
  });

  it('refuses an unknown flag, naming it', async () => {
    const result = await tju(['trigger', 'billing.issue-invoices', '--dat', '2026-11-01'], env);
    expectOneLineError(result, /unknown option '--dat'/);
    expect(await countRuns('2026-11-01')).toBe(0);
  });

  it('refuses a bad flag value and a bad environment variable', async () => {
    expectOneLineError(await billingCli(['demo', '--subscriptions', '0'], env), /--subscriptions.*positive whole number/);
    expectOneLineError(await tju(['worker'], { ...env, TJU_MAX_CONCURRENT_UNITS: 'lots' }), /TJU_MAX_CONCURRENT_UNITS/);
    expectOneLineError(await tju(['migrate'], { ...env, DATABASE_URL: 'mysql://localhost/x' }), /DATABASE_URL: must be a postgres/);
  });

  it('says which PostgreSQL it cannot reach', async () => {
    const unreachable = { ...env, DATABASE_URL: 'postgres://postgres@127.0.0.1:1/tju' };
    expectOneLineError(await tju(['migrate'], unreachable), /cannot reach PostgreSQL at 127\.0\.0\.1:1/);
    expectOneLineError(await tju(['worker'], unreachable), /cannot reach PostgreSQL at 127\.0\.0\.1:1/);
  });

  it('says which Temporal it cannot reach, and starts nothing', async () => {
    const result = await tju(['trigger', 'billing.issue-invoices', '--date', '2026-11-05'], {
      ...env,
      TEMPORAL_ADDRESS: '127.0.0.1:1',
    });
    expectOneLineError(result, /cannot reach Temporal at 127\.0\.0\.1:1/);
    expect(await countRuns('2026-11-05')).toBe(0);
  });
});

describe("an app's config", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tju-config-'));
  const config = (name: string, text: string) => {
    fs.writeFileSync(path.join(dir, name), text);
    return ['--config', path.join(dir, name), 'trigger', '--help'];
  };
  const unit = "{ name: 'u', run: async () => undefined }";
  const batch = (name: string, extra = `unit: ${unit}`) =>
    `{ name: '${name}', params: { shape: {} }, runKey: () => 'k', targets: async () => [], job: { input: () => ({}) }, ${extra} }`;

  it.each([
    ['missing.ts', null, /missing\.ts: no such config file/],
    ['empty.ts', 'export default { batches: [] };', /empty\.ts: no batches/],
    ['no-unit.ts', `export default { batches: [${batch('a.b', '')}] };`, /no-unit\.ts: batch a\.b has no unit/],
    ['twice.ts', `export default { batches: [${batch('a.b')}, ${batch('a.b')}] };`, /twice\.ts: batch a\.b is declared twice/],
    ['broken.ts', 'export default { batches: [ };', /broken\.ts:1:\d+: ParseError: /],
  ])('refuses %s in one line naming the file', async (file, text, message) => {
    const args = text === null ? ['--config', path.join(dir, file), 'trigger', '--help'] : config(file, text);
    expectOneLineError(await tju(args, env), message);
  });

  it('says how to start when neither the working directory nor a folder above it has a config', async () => {
    expectOneLineError(
      await tju(['trigger', 'billing.issue-invoices'], env, dir),
      /no tju\.config\.ts in .* or above it: run `npx tju init`/,
    );
  });

  it('answers --help anywhere, with or without an app', async () => {
    for (const args of [['schedule', 'list', '--help'], ['trigger', '--help'], ['--help']]) {
      const help = await tju(args, env, dir);
      expect(help).toMatchObject({ code: 0, stderr: '' });
      expect(help.stdout).toMatch(/^Usage: tju /);
    }
  });

  it('finds the config in a folder above the working directory, as eslint and tsc do', async () => {
    const app = fs.mkdtempSync(path.join(os.tmpdir(), 'tju-app-'));
    fs.writeFileSync(path.join(app, 'tju.config.ts'), `export default { batches: [${batch('acme.nightly')}] };`);
    fs.mkdirSync(path.join(app, 'deep', 'down'), { recursive: true });
    const help = await tju(['trigger', '--help'], env, path.join(app, 'deep', 'down'));
    expect(help).toMatchObject({ code: 0, stdout: expect.stringContaining('acme.nightly') });
  });

  it('reports a syntax error in the config with its file, line and column', async () => {
    const args = config('syntax.ts', "import { defineConfig } from 'tju';\n\nexport default defineConfig({ batches: [ }\n");
    expectOneLineError(await tju(args, env), /^tju: .*syntax\.ts:3:\d+: ParseError: Unexpected token/);
  });
});

describe('good input', () => {
  it('migrates a new database once', async () => {
    const name = `tju_cli_migrate_${process.pid}`;
    const url = adminUrl(name);
    try {
      const migrations = listMigrations();
      const first = await tju(['migrate'], { ...env, DATABASE_URL: url });
      expect(first).toMatchObject({ code: 0, stdout: expect.stringContaining(`applied ${migrations.map((m) => m.name).join(', ')}`) });
      const second = await tju(['migrate'], { ...env, DATABASE_URL: url });
      expect(second).toMatchObject({ code: 0, stdout: expect.stringMatching(/up to date/) });
      const pg = new PgClient({ connectionString: url });
      pg.on('error', () => undefined);
      await pg.connect();
      const { rows } = await pg.query('SELECT version FROM tju.migrations ORDER BY version');
      await pg.end();
      expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
    } finally {
      await dropTestDatabase(name);
    }
  });

  it('triggers, waits, exits 1 when a target failed, and reports status', async () => {
    await insertSubscriptions(h.pool, 30);
    await insertNoFeeSubscriptions(h.pool);

    const run = await tju(['trigger', 'billing.issue-invoices', '--date', '2026-11-01', '--wait'], env);
    expect(run.stdout).toContain('started billing.issue-invoices/2026-11-01');
    expect(run.stdout).toContain('total 31, succeeded 30, failed 1, skipped 0');
    expect(run.code).toBe(1);

    const status = await tju(['status', 'billing.issue-invoices', '--date', '2026-11-01'], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(
      /billing\.issue-invoices\/2026-11-01: COMPLETED \(from run history\)\n\s+total 31, succeeded 30, failed 1/,
    );

    // A run key whose every start has ended is answered from the run history, the same, with Temporal down;
    // --live asks Temporal, and says it cannot reach it.
    const down = { ...env, TEMPORAL_ADDRESS: '127.0.0.1:1' };
    const recorded = await tju(['status', 'billing.issue-invoices', '--date', '2026-11-01'], down);
    expect(recorded.code).toBe(0);
    expect(recorded.stdout.split('\n').slice(0, 2)).toEqual(status.stdout.split('\n').slice(0, 2));
    expect(recorded.stdout).toContain('1 target(s) still failed (open failure records)');
    expectOneLineError(
      await tju(['status', 'billing.issue-invoices', '--date', '2026-11-01', '--live'], down),
      /cannot reach Temporal at 127\.0\.0\.1:1/,
    );

    // A re-run that no worker has picked up yet is known at once (its client noted the start): asked of Temporal.
    const elsewhere = new TjuClient({ client: h.client, batches: [issueInvoices], taskQueue: `${h.taskQueue}-nobody-polls`, db: h.pool });
    const rerun = await elsewhere.trigger(issueInvoices, { date: '2026-11-01' });
    try {
      const waiting = await tju(['status', 'billing.issue-invoices', '--date', '2026-11-01'], env);
      expect(waiting.stdout).toMatch(/re-run started \S+: RUNNING/);
      expect((await tju(['status', 'billing.issue-invoices', '--date', '2026-11-01'], down)).stderr).toMatch(/cannot reach Temporal/);
    } finally {
      await h.client.workflow.getHandle(rerun.workflowId).terminate('test over');
    }
  });

  it('says so when a run does not exist', async () => {
    expectOneLineError(
      await tju(['status', 'billing.issue-invoices', '--date', '1999-01-01'], env),
      /no run of billing\.issue-invoices for 1999-01-01/,
    );
  });
});
