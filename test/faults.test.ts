// Hard crashes: SIGKILL the worker process three times mid-run and start a new one each time. The run
// completes; PostgreSQL shows exactly one invoice per active subscription, none lost, none doubled.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { issueInvoices } from '../batches/billing/issue-invoices';
import { seedSubscriptions } from '../src/demo/seed';
import type { Granularity } from '../workflows/types';
import { startHarness, type Harness } from './helpers/harness';
import { invoiceCounts } from './helpers/billing';

let h: Harness;
beforeAll(async () => {
  h = await startHarness([issueInvoices], { worker: false });
});
afterAll(() => h.close());

const BIN = path.join(__dirname, '..', 'bin', 'tju.js');

/** A `tju worker` process on this harness's database and task queue; resolves once it polls. */
function startWorkerProcess(env: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'worker'], {
    env: {
      ...process.env,
      DATABASE_URL: h.databaseUrl,
      TEMPORAL_ADDRESS: h.address,
      TJU_TASK_QUEUE: h.taskQueue,
      TJU_LOG_LEVEL: 'error',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
      if (stderr.includes('polling')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`worker exited with ${code} before polling: ${stderr}`)));
  });
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

const killed = (child: ChildProcess) => {
  const exit = exited(child);
  child.kill('SIGKILL');
  return exit;
};

async function waitForInvoices(date: string, atLeast: number): Promise<void> {
  while ((await invoiceCounts(h.pool, date)).invoices < atLeast) await new Promise((r) => setTimeout(r, 100));
}

it.each<[Granularity, number]>([
  ['per-chunk', 5000],
  ['per-target', 600],
])('%s: survives three SIGKILLs of the worker during a %i-target run', async (granularity, targets) => {
  const { active } = await seedSubscriptions(h.pool, targets, { inactiveEvery: 50, brokenEvery: 0 });
  const date = granularity === 'per-chunk' ? '2026-11-01' : '2026-11-02';
  let worker = await startWorkerProcess();
  const run = await h.tju.trigger('billing.issue-invoices', { date }, { granularity });

  for (const fraction of [0.2, 0.45, 0.7]) {
    await waitForInvoices(date, Math.floor(active * fraction));
    await killed(worker);
    worker = await startWorkerProcess();
  }
  const summary = await run.result();
  const exit = exited(worker);
  worker.kill('SIGTERM');
  await exit;

  expect(await invoiceCounts(h.pool, date)).toEqual({
    invoices: active,
    subscriptions: active,
    duplicates: 0,
    inactive: 0,
  });
  // Units that committed just before a kill run again on retry and find their ledger entry: skipped.
  expect(summary.total).toBe(active);
  expect(summary.failed).toBe(0);
  expect(summary.succeeded + summary.skipped).toBe(active);
  const ledger = await h.pool.query(`SELECT count(*)::int AS n FROM tju_ledger WHERE run_key = $1`, [date]);
  expect(ledger.rows[0].n).toBe(active);
}, 600_000);

it('drains on SIGTERM and exits 0; a restarted worker finishes the run with nothing done twice or lost', async () => {
  const { active } = await seedSubscriptions(h.pool, 600, { inactiveEvery: 50, brokenEvery: 0 });
  const date = '2026-11-03';
  let worker = await startWorkerProcess();
  const run = await h.tju.trigger('billing.issue-invoices', { date });

  await waitForInvoices(date, Math.floor(active * 0.3));
  const exit = exited(worker);
  worker.kill('SIGTERM');
  expect(await exit).toBe(0);

  // A worker with a short lifetime drains and exits 0 by itself, for its supervisor to restart.
  worker = await startWorkerProcess({ TJU_MAX_LIFETIME: '2s' });
  expect(await exited(worker)).toBe(0);

  worker = await startWorkerProcess();
  const summary = await run.result();
  const stopped = exited(worker);
  worker.kill('SIGTERM');
  expect(await stopped).toBe(0);

  expect(await invoiceCounts(h.pool, date)).toEqual({ invoices: active, subscriptions: active, duplicates: 0, inactive: 0 });
  expect(summary).toMatchObject({ total: active, failed: 0 });
  expect(summary.succeeded + summary.skipped).toBe(active);
}, 300_000);
