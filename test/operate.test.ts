// Operating a run from the shell: failures, retry, clear, refresh, runs — through the real `tju` binary.
// Each test starts from its own finished run: 40 subscriptions billed, 3 with no fee failed.
import { issueInvoices } from '../examples/billing/batches/issue-invoices';
import { startHarness, type Harness } from './helpers/harness';
import { insertNoFeeSubscriptions, insertSubscriptions, invoiceCounts, ledgerCount, resetBillingData } from './helpers/billing';
import { tju } from './helpers/cli';
import { ensureSearchAttributes } from '../src/temporal/searchAttributes';

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
      new RegExp(
        `\\n  ${id}  1 attempt\\(s\\), not retried  \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z  billing\\.issue-invoice  NonRetryableError: subscription ${id} has no monthly fee\\n    payment_method=card\\n`,
      ),
    );
  }
});

it('retries only the failed targets once the cause is fixed', async () => {
  const ledgerBefore = await ledgerRows();

  const result = await fixAndRetry();

  expect(result.code).toBe(0);
  expect(result.stdout).toContain(`started billing.issue-invoices/${date}/~retry`);
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
  expect(result.stdout).toMatch(new RegExp(`${id}/~retry  COMPLETED  .*total 3, succeeded 3`));
  expect(result.stdout).toMatch(new RegExp(`${id}  COMPLETED  .*total 43, succeeded 40, failed 3`));
});

it('answers status, failures and runs as JSON for scripts', async () => {
  const status = JSON.parse((await tju(['status', ...batchArgs, '--json'], env)).stdout);
  expect(status).toMatchObject({
    workflowId: `billing.issue-invoices/${date}`,
    state: 'COMPLETED',
    counts: { total: 43, succeeded: 40, failed: 3, skipped: 0 },
    failuresRecorded: 3,
    reruns: [],
  });
  const failures = JSON.parse((await tju(['failures', ...batchArgs, '--json'], env)).stdout);
  expect(failures.map((f: { targetKey: string }) => f.targetKey).sort()).toEqual([...noFee].sort());
  expect(failures[0]).toMatchObject({ attempts: 1, nonRetryable: true, errorType: 'NonRetryableError' });
  const runs = JSON.parse((await tju(['runs', 'billing.issue-invoices', '--json'], env)).stdout);
  expect(runs[0]).toMatchObject({ runKey: date, state: 'COMPLETED', counts: { total: 43 } });
});

/**
 * The environment of a Temporal that has none of this file's runs, as after its retention period dropped them
 * (the dev server takes about a minute to delete one execution): a new namespace, the same database.
 */
async function forgetfulTemporal(): Promise<Record<string, string>> {
  const namespace = `${h.namespace}-forgot`;
  await h.client.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: { seconds: 86_400 as unknown as Long } });
  await ensureSearchAttributes(h.client.connection, namespace);
  return { ...env, TEMPORAL_NAMESPACE: namespace };
}

it('keeps runs in PostgreSQL: status and runs read them once Temporal no longer has the run', async () => {
  await fixAndRetry();
  const id = `billing.issue-invoices/${date}`;
  const env = await forgetfulTemporal();

  const status = await tju(['status', ...batchArgs], env);
  expect(status.code).toBe(0);
  expect(status.stdout.split('\n')[0]).toBe(`${id}: COMPLETED (from run history)`);
  expect(status.stdout).toContain('total 43, succeeded 40, failed 3, skipped 0');
  const json = JSON.parse((await tju(['status', ...batchArgs, '--json'], env)).stdout);
  expect(json).toMatchObject({ fromHistory: true, state: 'COMPLETED', counts: { total: 43, failed: 3 }, failuresRecorded: 0 });
  expect(new Date(json.finishTime).getTime()).toBeGreaterThanOrEqual(new Date(json.startTime).getTime());

  const runs = await tju(['runs', 'billing.issue-invoices'], env);
  const escaped = id.replace('.', '\\.');
  expect(runs.stdout).toMatch(new RegExp(`^${escaped}/~retry  COMPLETED \\(from run history\\)  .*total 3, succeeded 3`, 'm'));
  expect(runs.stdout).toMatch(new RegExp(`^${escaped}  COMPLETED \\(from run history\\)  .*total 43, succeeded 40, failed 3`, 'm'));
});

it('prunes the records of runs older than a cutoff: a dry run first, recent runs and longer retentions kept', async () => {
  // This batch sets no retention of its own.
  const bad = await tju(['prune', '--batch', 'billing.issue-invoices'], env);
  expect(bad).toMatchObject({
    code: 2,
    stdout: '',
    stderr: 'tju: nothing to prune by: give --older-than <duration>, or set `retention` on a batch\n',
  });
  const malformed = await tju(['prune', '--older-than', 'soon'], env);
  expect(malformed.code).not.toBe(0);
  expect(malformed.stderr).toMatch(
    /^tju: option '--older-than <duration>' argument 'soon' is invalid\. expected a duration like 90d or 12h\n$/,
  );

  // This test's run ended 100 days ago; so did one of a batch kept for 400 days and one of a batch since removed.
  await h.pool.query(
    `UPDATE tju.run_history SET started_at = now() - interval '100 days', finished_at = now() - interval '100 days'
      WHERE run_id = (SELECT id FROM tju.runs WHERE batch = 'billing.issue-invoices' AND run_key = $1)`,
    [date],
  );
  await h.pool.query(
    `WITH r AS (INSERT INTO tju.runs (batch, run_key, created_at)
                VALUES ('test.ordered-billing', 'old', now() - interval '100 days'), ('gone.batch', 'old', now() - interval '100 days')
                RETURNING id)
     INSERT INTO tju.ledger (run_id, target_key, unit, recorded_at) SELECT id, 't1', 'u', now() - interval '100 days' FROM r`,
  );
  const totalLedger = async () => (await h.pool.query('SELECT count(*)::int AS n FROM tju.ledger')).rows[0].n;
  const before = await totalLedger();

  const dry = await tju(['prune', '--older-than', '90d'], env);
  expect(dry.code).toBe(0);
  expect(dry.stdout).toBe(
    'would prune billing.issue-invoices: 1 run(s), 40 ledger row(s), 3 failure record(s), 1 history row(s) (older than 90d)\n' +
      'would prune gone.batch: 1 run(s), 1 ledger row(s), 0 failure record(s), 0 history row(s) (older than 90d)\n' +
      'add --yes to delete them\n',
  );
  expect(await totalLedger()).toBe(before);

  const pruned = await tju(['prune', '--older-than', '90d', '--yes'], env);
  expect(pruned.stdout).toContain('pruned billing.issue-invoices: 1 run(s), 40 ledger row(s), 3 failure record(s), 1 history row(s)');
  expect(await ledgerRows()).toBe(0);
  expect(await totalLedger()).toBe(before - 41);
  const left = await h.pool.query(
    `SELECT r.batch, r.run_key, (SELECT count(*) FROM tju.failures f WHERE f.run_id = r.id)::int AS failures,
            (SELECT count(*) FROM tju.run_history h WHERE h.run_id = r.id)::int AS history,
            (SELECT count(*) FROM tju.ledger l WHERE l.run_id = r.id)::int AS ledger
       FROM tju.runs r WHERE r.run_key IN ($1, 'old') ORDER BY r.batch`,
    [date],
  );
  expect(left.rows).toEqual([
    { batch: 'billing.issue-invoices', run_key: date, failures: 0, history: 0, ledger: 0 },
    { batch: 'gone.batch', run_key: 'old', failures: 0, history: 0, ledger: 0 },
    { batch: 'test.ordered-billing', run_key: 'old', failures: 0, history: 0, ledger: 1 },
  ]);
  expect((await tju(['prune', '--older-than', '90d'], env)).stdout).toBe('nothing to prune\n');
  expect(await tju(['prune', '--batch', 'no.such-batch', '--older-than', '90d'], env)).toMatchObject({
    code: 2,
    stderr: 'tju: no batch named no.such-batch\n',
  });
});
