// Operating a run from the shell: failures, retry, clear, refresh, runs — through the real `tju` binary.
import { issueInvoices } from '../batches/billing/issue-invoices';
import { startHarness, type Harness } from './helpers/harness';
import { insertSubscriptions, invoiceCounts } from './helpers/billing';
import { tju } from './helpers/cli';

let h: Harness;
let env: Record<string, string>;
const date = '2026-11-01';
const batchArgs = ['billing.issue-invoices', '--date', date];
let noFee: string[];

beforeAll(async () => {
  h = await startHarness([issueInvoices]);
  env = { TEMPORAL_ADDRESS: h.address, TJU_TASK_QUEUE: h.taskQueue, DATABASE_URL: h.databaseUrl };
  await insertSubscriptions(h.pool, 40);
  const { rows } = await h.pool.query(
    `INSERT INTO subscriptions (customer, status, monthly_fee)
     SELECT 'no-fee-' || g, 'active', NULL FROM generate_series(1, 3) g RETURNING id`,
  );
  noFee = rows.map((r) => r.id);
  const run = await tju(['trigger', ...batchArgs, '--wait'], env);
  expect(run.stdout).toContain('total 43, succeeded 40, failed 3, skipped 0');
});
afterAll(() => h.close());

const ledgerCount = async () =>
  (await h.pool.query(`SELECT count(*)::int AS n FROM tju_ledger WHERE run_key = $1`, [date])).rows[0].n as number;

it('lists the failed targets with attempts, error and time', async () => {
  const result = await tju(['failures', ...batchArgs], env);
  expect(result.code).toBe(0);
  expect(result.stdout).toContain('3 failed target(s) for billing.issue-invoices 2026-11-01');
  for (const id of noFee) {
    expect(result.stdout).toMatch(
      new RegExp(`\\n  ${id}  1 attempt\\(s\\), not retried  \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z  NonRetryableError: subscription ${id} has no monthly fee`),
    );
  }
});

it('retries only the failed targets once the cause is fixed', async () => {
  await h.pool.query('UPDATE subscriptions SET monthly_fee = 9.5 WHERE id = ANY($1)', [noFee]);
  const ledgerBefore = await ledgerCount();

  const result = await tju(['retry', ...batchArgs, '--wait'], env);

  expect(result.code).toBe(0);
  expect(result.stdout).toContain(`started billing.issue-invoices/${date}/retry`);
  expect(result.stdout).toContain('total 3, succeeded 3, failed 0, skipped 0');
  expect(await ledgerCount()).toBe(ledgerBefore + 3);
  expect(await invoiceCounts(h.pool, date)).toMatchObject({ invoices: 43, duplicates: 0 });
  expect((await tju(['failures', ...batchArgs], env)).stdout).toContain('no failed targets');
});

it('clear without --yes says what it would forget and changes nothing', async () => {
  const result = await tju(['clear', ...batchArgs], env);
  expect(result.code).toBe(0);
  expect(result.stdout).toContain('would forget 43 ledger entries and 0 failure record(s)');
  expect(await ledgerCount()).toBe(43);
});

it('clear --yes forgets the progress records but never the invoices; refresh runs the batch again', async () => {
  const cleared = await tju(['clear', ...batchArgs, '--yes'], env);
  expect(cleared.stdout).toContain('forgot 43 ledger entries');
  expect(await ledgerCount()).toBe(0);
  expect(await invoiceCounts(h.pool, date)).toMatchObject({ invoices: 43 });

  // A subscription added since: the refreshed run bills it, and the guard keeps the rest single.
  await insertSubscriptions(h.pool, 1);
  const refreshed = await tju(['refresh', ...batchArgs, '--yes', '--wait'], env);
  expect(refreshed.code).toBe(0);
  expect(refreshed.stdout).toContain('total 1, succeeded 1, failed 0, skipped 0');
  expect(await invoiceCounts(h.pool, date)).toMatchObject({ invoices: 44, duplicates: 0 });
});

it('lists recent runs, retries included, with state and counts', async () => {
  const result = await tju(['runs', 'billing.issue-invoices'], env);
  expect(result.code).toBe(0);
  const lines = result.stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^billing\.issue-invoices\/2026-11-01  COMPLETED  .*total 1, succeeded 1/);
  expect(result.stdout).toMatch(/billing\.issue-invoices\/2026-11-01\/retry  COMPLETED  .*total 3, succeeded 3/);
  expect(result.stdout).toMatch(/billing\.issue-invoices\/2026-11-01  COMPLETED  .*total 43, succeeded 40, failed 3/);
});
