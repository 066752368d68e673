// One target now, from app code: `tju.dispatch` starts that target's job under its run key's job ID and ledger.
// Twice acts once; the run of the key skips it when done, and joins its job while it still runs.
import type { PoolClient } from 'pg';
import { issueInvoices } from '../examples/billing/batches/issue-invoices';
import { TjuClient } from '../src/temporal/client';
import { insertSubscriptions, invoiceCounts } from './helpers/billing';
import { startHarness, type Harness } from './helpers/harness';
import { until, untilSql } from './helpers/wait';

let h: Harness;
let tju: TjuClient;
beforeAll(async () => {
  h = await startHarness([issueInvoices]);
  tju = new TjuClient({ client: h.client, batches: [issueInvoices], taskQueue: h.taskQueue, db: h.pool });
});
afterAll(() => h.close());

const executionsOf = async (workflowId: string) => (await h.client.workflow.count(`WorkflowId = '${workflowId}'`)).count;

it("starts one target's job now; a second call acts once; the run of its key skips it", async () => {
  const date = '2026-11-20';
  const ids = await insertSubscriptions(h.pool, 5);
  const target = { key: ids[0], payment_method: 'card' };

  const first = await tju.dispatch(issueInvoices, { date }, target);
  expect(first.workflowId).toBe(`billing.issue-invoices/${date}/${ids[0]}`);
  expect(await first.result()).toEqual({ outcome: 'succeeded' });
  const again = await tju.dispatch(issueInvoices, { date }, target);
  expect(await again.result()).toEqual({ outcome: 'succeeded' });
  expect(await executionsOf(first.workflowId)).toBe(1);
  const { rows } = await h.pool.query('SELECT payment_method FROM invoices WHERE subscription_id = $1 AND billing_date = $2', [
    ids[0],
    date,
  ]);
  expect(rows).toEqual([{ payment_method: 'card' }]);

  // The night's run bills the other four: its query no longer selects the one billed already.
  expect(await (await tju.trigger(issueInvoices, { date })).result()).toMatchObject({ total: 4, succeeded: 4, failed: 0 });
  expect(await invoiceCounts(h.pool, date)).toMatchObject({ invoices: 5, duplicates: 0 });
});

it('has the run of the key join a dispatched job still in flight, and bill it once', async () => {
  const date = '2026-11-21';
  const ids = await insertSubscriptions(h.pool, 3);
  // The unit locks its subscription first: held here, the dispatched job stays in flight until released.
  const holder: PoolClient = await h.pool.connect();
  await holder.query('BEGIN');
  await holder.query('SELECT 1 FROM subscriptions WHERE id = $1 FOR UPDATE', [ids[0]]);
  try {
    const job = await tju.dispatch(issueInvoices, { date }, { key: ids[0], payment_method: 'invoice' });
    await untilSql(
      h.pool,
      `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE%') AS ok`,
    );
    const run = await tju.trigger(issueInvoices, { date });
    // The run reaches the held target, finds its job running, and waits for it (an awaitJob activity).
    await until(
      () => h.client.workflow.getHandle(run.workflowId).describe(),
      (d) => (d.raw.pendingActivities ?? []).some((a) => a.activityType?.name === 'awaitJob'),
      'the run waiting for the dispatched job',
    );
    await holder.query('COMMIT');
    expect(await job.result()).toEqual({ outcome: 'succeeded' });
    const summary = await run.result();
    expect(summary).toMatchObject({ failed: 0 });
    expect(summary.succeeded).toBe(summary.total); // the joined job counted once, as succeeded
  } finally {
    holder.release();
  }
  expect(await invoiceCounts(h.pool, date)).toMatchObject({ duplicates: 0 });
  const { rows } = await h.pool.query('SELECT count(*)::int AS n FROM invoices WHERE billing_date = $1', [date]);
  const { rows: total } = await h.pool.query(`SELECT count(*)::int AS n FROM subscriptions WHERE status = 'active'`);
  expect(rows[0].n).toBe(total[0].n);
  expect(await executionsOf(`billing.issue-invoices/${date}/${ids[0]}`)).toBe(1);
});

it('refuses a target without a key, and bad params, in one line, starting nothing', async () => {
  await expect(tju.dispatch(issueInvoices, { date: '2026-11-22' }, { payment_method: 'card' })).rejects.toThrow(
    /billing\.issue-invoices: target row 1 of the page has no key/,
  );
  await expect(tju.dispatch(issueInvoices, { date: '2026-13-01' }, { key: '1' })).rejects.toThrow(/date/);
  expect((await h.client.workflow.count(`WorkflowId STARTS_WITH 'billing.issue-invoices/2026-11-22'`)).count).toBe(0);
});
