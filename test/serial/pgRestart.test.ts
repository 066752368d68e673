// PostgreSQL itself restarted mid-run: the machine's cluster, so this file runs alone, after the others
// (npm test's second pass), never beside a test that uses the database.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { mixedBilling } from '../fixtures/batches';
import { insertMixedSubscriptions } from '../helpers/billing';
import { startHarness, type Harness } from '../helpers/harness';
import { mixedRuns } from '../helpers/mixedRuns';
import { startWorkerProcess } from '../helpers/workerProcess';

let h: Harness;
beforeAll(async () => {
  h = await startHarness([mixedBilling], { worker: false });
});
afterAll(() => h.close());

const { waitForInvoices, expectMixedRunEffects } = mixedRuns(() => h);

/** The machine's own PostgreSQL cluster, when this test may restart it (pg_ctlcluster manages it). */
function localCluster(): string[] | undefined {
  if (!fs.existsSync('/etc/postgresql') || process.env.TJU_TEST_NO_PG_RESTART) return undefined;
  try {
    const line = execFileSync('pg_lsclusters', ['--no-header'], { encoding: 'utf8' })
      .split('\n')
      .find((l) => /\b5432\b.*\bonline\b/.test(l));
    return line ? line.trim().split(/\s+/).slice(0, 2) : undefined;
  } catch {
    return undefined;
  }
}

const cluster = localCluster();
const pgCtlCluster = (...args: string[]) =>
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', ...cluster!, ...args], { stdio: 'ignore' });
(cluster ? it : it.skip)(
  'per-chunk: PostgreSQL restarted mid-run; the run completes with every effect once',
  async () => {
    await h.pool.query('TRUNCATE invoices, subscriptions, tju.ledger, tju.failures RESTART IDENTITY CASCADE');
    const date = '2026-11-05';
    const { failing, billable } = await insertMixedSubscriptions(h.pool, 1500);
    const worker = await startWorkerProcess(h);
    const run = await h.tju.trigger('test.mixed-billing', { date }, { granularity: 'per-chunk' });

    await waitForInvoices(date, Math.floor(billable.length * 0.3));
    try {
      pgCtlCluster('restart', '-m', 'fast');
    } finally {
      // Leave the machine's cluster running whatever happened; `start` fails harmlessly when it already runs.
      try {
        pgCtlCluster('start');
      } catch {
        // running
      }
    }
    const summary = await run.result();

    expect(worker.child.exitCode).toBeNull();
    expect(await worker.kill('SIGTERM')).toBe(0);
    await expectMixedRunEffects(date, summary, failing, billable);
  },
  600_000,
);
