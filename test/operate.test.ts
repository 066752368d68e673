// Operating a run from the shell: failures, retry, clear, refresh, runs — through the real `tju` binary.
// Each test starts from its own finished run: 40 subscriptions billed, 3 with no fee failed.
import { issueInvoices } from '../examples/billing/batches/issue-invoices';
import { startHarness, type Harness } from './helpers/harness';
import { insertNoFeeSubscriptions, insertSubscriptions, invoiceCounts, ledgerCount, resetBillingData } from './helpers/billing';
import { tju } from './helpers/cli';

let h: Harness;
let env: Record<string, string>;
beforeAll(async () => {
  h = await startHarness([issueInvoices]);
  env = h.env;
});
afterAll(() => h.close());

let date: string;
let batchArgs: string[];
let noFee: string[];
let day = 0;
beforeEach(async () => {
  // A run key of its own per test: runs of earlier tests stay out of its status and lists.
  date = `2026-11-${String(++day).padStart(2, '0')}`;
  batchArgs = ['billing.issue-invoices', '--date', date];
  await resetBillingData(h.pool);
  await insertSubscriptions(h.pool, 40);
  noFee = await insertNoFeeSubscriptions(h.pool, 3);
  const run = await tju(['trigger', ...batchArgs, '--wait'], env);
  expect(run.stdout).toContain('total 43, succeeded 40, failed 3, skipped 0');
});

const ledgerRows = () => ledgerCount(h.pool, date);

/** Sets the missing fees and retries the failed targets. */
async function fixAndRetry() {
  await h.pool.query('UPDATE subscriptions SET monthly_fee = 9.5 WHERE id = ANY($1)', [noFee]);
  return tju(['retry', ...batchArgs, '--wait'], env);
}

it('lists the failed targets with attempts, error and time', async () => {
  const result = await tju(['failures', ...batchArgs], env);
  expect(result.code).toBe(0);
  expect(result.stdout).toContain(`3 failed target(s) for billing.issue-invoices ${date}`);
  for (const id of noFee) {
    expect(result.stdout).toMatch(
      new RegExp(`\\n  ${id}  1 attempt\\(s\\), not retried  \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z  NonRetryableError: subscription ${id} has no monthly fee`),
    );
  }
});

it('retries only the failed targets once the cause is fixed', async () => {
  const ledgerBefore = await ledgerRows();

  const result = await fixAndRetry();

  expect(result.code).toBe(0);
  expect(result.stdout).toContain(`started billing.issue-invoices/${date}/retry`);
  expect(result.stdout).toContain('total 3, succeeded 3, failed 0, skipped 0');
  expect(await ledgerRows()).toBe(ledgerBefore + 3);
  expect(await invoiceCounts(h.pool, date)).toMatchObject({ invoices: 43, duplicates: 0 });
  expect((await tju(['failures', ...batchArgs], env)).stdout).toContain('no failed targets');
});

it('clear without --yes says what it would forget and changes nothing', async () => {
  const result = await tju(['clear', ...batchArgs], env);
  expect(result.code).toBe(0);
  expect(result.stdout).toContain('would forget 40 ledger entries and 3 failure record(s)');
  expect(await ledgerRows()).toBe(40);
});

it('clear --yes forgets the progress records but never the invoices; refresh runs the batch again', async () => {
  await fixAndRetry();
  const cleared = await tju(['clear', ...batchArgs, '--yes'], env);
  expect(cleared.stdout).toContain('forgot 43 ledger entries');
  expect(await ledgerRows()).toBe(0);
  expect(await invoiceCounts(h.pool, date)).toMatchObject({ invoices: 43 });

  // A subscription added since: the refreshed run bills it, and the guard keeps the rest single.
  await insertSubscriptions(h.pool, 1);
  const refreshed = await tju(['refresh', ...batchArgs, '--yes', '--wait'], env);
  expect(refreshed.code).toBe(0);
  expect(refreshed.stdout).toContain('total 1, succeeded 1, failed 0, skipped 0');
  expect(await invoiceCounts(h.pool, date)).toMatchObject({ invoices: 44, duplicates: 0 });
});

it('lists recent runs, retries included, with state and counts', async () => {
  await fixAndRetry();
  await insertSubscriptions(h.pool, 1);
  await tju(['trigger', ...batchArgs, '--wait'], env);

  const result = await tju(['runs', 'billing.issue-invoices'], env);
  expect(result.code).toBe(0);
  const id = `billing\\.issue-invoices/${date}`;
  expect(result.stdout.trim().split('\n')[0]).toMatch(new RegExp(`^${id}  COMPLETED  .*total 1, succeeded 1`));
  expect(result.stdout).toMatch(new RegExp(`${id}/retry  COMPLETED  .*total 3, succeeded 3`));
  expect(result.stdout).toMatch(new RegExp(`${id}  COMPLETED  .*total 43, succeeded 40, failed 3`));
});
