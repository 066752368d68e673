// Retries and failure records: a transient failure heals by retry; a permanent one is recorded and
// does not stop the other targets.
import { listFailures } from '../src/db/ledger';
import { flakyBilling } from './fixtures/batches';
import { tju } from './helpers/cli';
import { startHarness, type Harness } from './helpers/harness';
import { insertSubscription, insertSubscriptions, invoiceCounts, resetBillingData } from './helpers/billing';

let h: Harness;
beforeAll(async () => {
  h = await startHarness([flakyBilling]);
});
afterAll(() => h.close());
beforeEach(() => resetBillingData(h.pool));

const named = (name: string, fee: number | null = 10) => insertSubscription(h.pool, name, fee);

it('retries a unit that fails twice, records targets that always fail, and finishes the rest', async () => {
  await insertSubscriptions(h.pool, 20);
  const flaky = await named('flaky-1');
  const broken = await named('broken-1');
  const noFee = await named('no-fee', null);
  const date = '2026-11-01';

  const summary = await (await h.tju.trigger('test.flaky-billing', { date })).result();

  expect(summary).toEqual({ total: 23, succeeded: 21, failed: 2, skipped: 0 });
  const { rows } = await h.pool.query('SELECT subscription_id FROM invoices WHERE subscription_id = $1', [flaky]);
  expect(rows).toHaveLength(1);
  expect(await invoiceCounts(h.pool, date)).toMatchObject({ invoices: 21, duplicates: 0 });

  const failures = await listFailures(h.pool, { batch: 'test.flaky-billing', runKey: date });
  expect(failures.map((f) => [f.targetKey, f.error, f.errorType, f.attempts, f.nonRetryable])).toEqual(
    expect.arrayContaining([
      [broken, 'payment gateway rejected the card', 'Error', 3, false],
      // A business error is not retried.
      [noFee, `subscription ${noFee} has no monthly fee`, 'NonRetryableError', 1, true],
    ]),
  );
  expect(failures).toHaveLength(2);
  expect(failures[0].failedAt).toBeInstanceOf(Date);

  // The failed job is a failed workflow, findable by its search attributes.
  const failed = [];
  for await (const wf of h.client.workflow.list({
    // Scoped to this file's task queue: other files run the same test batch on the same dev server.
    query: `TjuBatch = 'test.flaky-billing' AND TjuRunKey = '${date}' AND ExecutionStatus = 'Failed' AND TaskQueue = '${h.taskQueue}'`,
  })) {
    failed.push(wf.workflowId);
  }
  expect(failed.sort()).toEqual([`test.flaky-billing/${date}/${broken}`, `test.flaky-billing/${date}/${noFee}`].sort());
});

it('bills a fixed target on the next run of the date and clears its failure record', async () => {
  const date = '2026-11-02';
  await insertSubscriptions(h.pool, 21);
  await named('broken-1');
  await named('no-fee', null);
  expect(await (await h.tju.trigger('test.flaky-billing', { date })).result()).toMatchObject({ total: 23, failed: 2 });
  await h.pool.query(`UPDATE subscriptions SET customer = 'fixed-1' WHERE customer = 'broken-1'`);
  await h.pool.query(`UPDATE subscriptions SET monthly_fee = 5 WHERE customer = 'no-fee'`);

  const summary = await (await h.tju.trigger('test.flaky-billing', { date })).result();

  expect(summary).toEqual({ total: 2, succeeded: 2, failed: 0, skipped: 0 });
  expect(await listFailures(h.pool, { batch: 'test.flaky-billing', runKey: date })).toEqual([]);
  expect(await invoiceCounts(h.pool, date)).toMatchObject({ invoices: 23, duplicates: 0 });
  // status still shows the first run's `failed 2`, and says that none is still failed now.
  const status = await tju(['status', 'test.flaky-billing', '--date', date], h.env);
  expect(status.stdout).toContain('total 23, succeeded 21, failed 2, skipped 0');
  expect(status.stdout).toContain('no target still failed: every failure was resolved since (by a retry or a re-run)');
});

it('bulk: a retry pages the open failures as staged chunks, bills the fixed targets once and leaves the rest open', async () => {
  const date = '2026-11-03';
  await insertSubscriptions(h.pool, 30);
  const broken = await named('broken-3');
  const noFee = [await named('no-fee-3', null), await named('no-fee-4', null)];
  const options = { granularity: 'bulk' as const, chunkSize: 1, pageSize: 2 };
  expect(await (await h.tju.trigger('test.flaky-billing', { date }, options)).result()).toMatchObject({ total: 33, failed: 3 });
  await h.pool.query(`UPDATE subscriptions SET monthly_fee = 5 WHERE customer LIKE 'no-fee-%'`);

  // Pages of 2 failures, staged as chunks of 1: two pages, three chunks.
  const summary = await (await h.tju.retry('test.flaky-billing', { date }, options)).result();

  expect(summary).toEqual({ total: 3, succeeded: 2, failed: 1, skipped: 0 });
  expect((await listFailures(h.pool, { batch: 'test.flaky-billing', runKey: date })).map((f) => f.targetKey)).toEqual([broken]);
  expect(await invoiceCounts(h.pool, date)).toMatchObject({ invoices: 32, duplicates: 0 });
  // The retry's chunks are the run's last three staged rows, one failure each.
  const { rows: staged } = await h.pool.query<{ key: string }>(
    `SELECT t->>'key' AS key
       FROM (SELECT c.targets FROM tju.staged_chunks c JOIN tju.runs r ON r.id = c.run_id
              WHERE r.run_key = $1 ORDER BY c.id DESC LIMIT 3) c, json_array_elements(c.targets) t`,
    [date],
  );
  expect(staged.map((row) => row.key).sort()).toEqual([broken, ...noFee].sort());
});

it('groups failures by cause, and retries or clears one group or one target from the CLI, recording who did it', async () => {
  const date = '2026-11-09';
  await insertSubscriptions(h.pool, 5);
  const broken = await named('broken-2');
  const noFee = [await named('no-fee-1', null), await named('no-fee-2', null)];
  expect(await (await h.tju.trigger('test.flaky-billing', { date })).result()).toMatchObject({ total: 8, failed: 3 });
  const run = ['test.flaky-billing', '--date', date];

  const groups = await tju(['failures', ...run, '--groups'], h.env);
  expect(groups.stdout).toContain('2  test.flaky-issue-invoice  NonRetryableError: subscription ? has no monthly fee');
  expect(groups.stdout).toContain('1  test.flaky-issue-invoice  Error: payment gateway rejected the card');
  // Each group prints the command that retries exactly it, quoted for a shell.
  expect(groups.stdout).toContain(
    `retry: npx tju retry test.flaky-billing --date ${date} --group 'NonRetryableError: subscription ? has no monthly fee' --step test.flaky-issue-invoice`,
  );

  // A choice that takes nothing is refused in one line, and nothing starts.
  const none = await tju(['retry', ...run, '--error', 'no such error'], h.env);
  expect(none.code).toBe(2);
  expect(none.stderr.trim()).toBe(`tju: no open failure of test.flaky-billing ${date} matching --error 'no such error'`);

  // Free text shows what it takes, per step and group, and starts nothing without --yes.
  const text = await tju(['retry', ...run, '--error', 'MONTHLY FEE'], h.env);
  expect(text.code).toBe(0);
  expect(text.stdout).toContain(`would retry 2 failed target(s) matching --error 'MONTHLY FEE':`);
  expect(text.stdout).toContain('2  test.flaky-issue-invoice  NonRetryableError: subscription ? has no monthly fee');
  expect(text.stdout).not.toContain('payment gateway');
  expect(await h.tju.run('test.flaky-billing', { date }).state()).toBe('COMPLETED');
  expect(
    await h.client.workflow
      .getHandle(`test.flaky-billing/${date}/~retry`)
      .describe()
      .catch(() => 'none'),
  ).toBe('none');

  await h.pool.query(`UPDATE subscriptions SET monthly_fee = 5 WHERE customer LIKE 'no-fee-%'`);
  const retried = await tju(['retry', ...run, '--group', 'NonRetryableError: subscription ? has no monthly fee', '--wait'], h.env);
  expect(retried.stdout).toContain('retrying 2 failed target(s)');
  expect(retried.code).toBe(0);
  const open = await listFailures(h.pool, { batch: 'test.flaky-billing', runKey: date });
  expect(open.map((f) => f.targetKey)).toEqual([broken]);
  const { rows: billed } = await h.pool.query('SELECT subscription_id::text FROM invoices WHERE subscription_id = ANY($1) ORDER BY 1', [
    noFee,
  ]);
  expect(billed.map((r) => r.subscription_id)).toEqual([...noFee].sort());

  // By target: clear forgets that failure record only (the ledger stays), and says who did it.
  expect((await tju(['clear', ...run, '--target', broken], h.env)).stdout).toContain('would forget 1 failure record(s)');
  const cleared = await tju(['clear', ...run, '--target', broken, '--yes'], h.env);
  expect(cleared.stdout).toContain(`forgot 1 failure record(s) of test.flaky-billing ${date} matching --target ${broken}`);
  expect(await listFailures(h.pool, { batch: 'test.flaky-billing', runKey: date })).toEqual([]);
  const { rows: actions } = await h.pool.query(
    `SELECT a.action, a.actor, a.detail FROM tju.run_actions a JOIN tju.runs r ON r.id = a.run_id WHERE r.run_key = $1 ORDER BY a.id`,
    [date],
  );
  expect(actions.map((a) => [a.action, a.detail.group?.error ?? a.detail.target])).toEqual([
    ['retry', 'NonRetryableError: subscription ? has no monthly fee'],
    ['clear', broken],
  ]);
  expect(actions[0].actor).toMatch(/^cli:.+@.+$/);
});

describe('per-chunk jobs', () => {
  it('gives each target of a chunk its own retries, transaction and failure record', async () => {
    const date = '2026-11-03';
    await insertSubscriptions(h.pool, 20);
    const flaky = await named('flaky-chunk');
    const broken = await named('broken-chunk');
    const { rows } = await h.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM subscriptions`);
    const billable = rows[0].n - 1; // all but broken-chunk

    const summary = await (
      await h.tju.trigger('test.flaky-billing', { date }, { granularity: 'per-chunk', chunkSize: 7, chunkConcurrency: 3 })
    ).result();

    expect(summary).toEqual({ total: rows[0].n, succeeded: billable, failed: 1, skipped: 0 });
    expect(await invoiceCounts(h.pool, date)).toMatchObject({ invoices: billable, duplicates: 0 });
    const invoiced = await h.pool.query('SELECT 1 FROM invoices WHERE subscription_id = $1 AND billing_date = $2', [flaky, date]);
    expect(invoiced.rowCount).toBe(1);
    const failures = await listFailures(h.pool, { batch: 'test.flaky-billing', runKey: date });
    expect(failures.map((f) => [f.targetKey, f.attempts, f.error])).toEqual([[broken, 3, 'payment gateway rejected the card']]);
    // The chunk with the failed target still completed: failures are per target, not per chunk.
    const failedChunks = await h.client.workflow.count(
      `WorkflowType = 'chunkJobWorkflow' AND TjuRunKey = '${date}' AND ExecutionStatus = 'Failed' AND TaskQueue = '${h.taskQueue}'`,
    );
    expect(failedChunks.count).toBe(0);
  });
});
