// The reference batch end to end: real Temporal dev server, real worker, real PostgreSQL.
import { partitionWorkflowId } from '../src/contracts/ids';
import { buildTriggerInput } from '../src/plan';
import { issueInvoices } from '../examples/billing/batches/issue-invoices';
import { startHarness, type Harness } from './helpers/harness';
import { insertSubscriptions, invoiceCounts, ledgerCount, resetBillingData } from './helpers/billing';

let h: Harness;
beforeAll(async () => {
  h = await startHarness([issueInvoices]);
});
afterAll(() => h.close());
// Each test starts from empty tables and uses a run key of its own.
beforeEach(() => resetBillingData(h.pool));

describe('billing.issue-invoices', () => {
  const date = '2026-11-01';

  /** Bills `n` active subscriptions for `day` and returns the summary. */
  const billed = async (n: number, day: string) => {
    await insertSubscriptions(h.pool, n);
    return (await h.tju.trigger('billing.issue-invoices', { date: day })).result();
  };

  it('issues exactly one invoice per active subscription of 300, none for inactive ones', async () => {
    await insertSubscriptions(h.pool, 300, 25);

    const run = await h.tju.trigger('billing.issue-invoices', { date });
    const summary = await run.result();

    const counts = await invoiceCounts(h.pool, date);
    expect(counts).toEqual({ invoices: 300, subscriptions: 300, duplicates: 0, inactive: 0 });
    expect(summary).toEqual({ total: 300, succeeded: counts.invoices, failed: 0, skipped: 0 });
    expect(await ledgerCount(h.pool, date)).toBe(300);
    // Each invoice carries its subscription's own option, passed by its job.
    const mismatched = await h.pool.query(
      `SELECT 1 FROM invoices i JOIN subscriptions s ON s.id = i.subscription_id
        WHERE i.payment_method <> s.payment_method OR i.amount <> s.monthly_fee`,
    );
    expect(mismatched.rowCount).toBe(0);
  });

  it('reports the finished run through status', async () => {
    await billed(30, '2026-11-02');
    const status = await h.tju.status('billing.issue-invoices', { date: '2026-11-02' });
    expect(status).toMatchObject({
      workflowId: 'billing.issue-invoices/2026-11-02',
      state: 'COMPLETED',
      counts: { total: 30, succeeded: 30, failed: 0, skipped: 0 },
      reruns: [],
    });
  });

  it('issues nothing new when the same run key runs again', async () => {
    await billed(30, '2026-11-03');
    const before = await invoiceCounts(h.pool, '2026-11-03');
    const again = await (await h.tju.trigger('billing.issue-invoices', { date: '2026-11-03' })).result();

    expect(again).toEqual({ total: 0, succeeded: 0, failed: 0, skipped: 0 });
    expect(await invoiceCounts(h.pool, '2026-11-03')).toEqual(before);
  });

  it('bills a new subscription on a re-run of the date, and only that one', async () => {
    await billed(30, '2026-11-04');
    await insertSubscriptions(h.pool, 1);
    const again = await (await h.tju.trigger('billing.issue-invoices', { date: '2026-11-04' })).result();
    expect(again).toEqual({ total: 1, succeeded: 1, failed: 0, skipped: 0 });
    expect((await invoiceCounts(h.pool, '2026-11-04')).invoices).toBe(31);
  });

  it('keeps one invoice per subscription when three triggers for one run key start at once', async () => {
    await insertSubscriptions(h.pool, 301);
    const otherDate = '2026-12-01';
    const runs = await Promise.all([1, 2, 3].map(() => h.tju.trigger('billing.issue-invoices', { date: otherDate })));
    const summaries = await Promise.all(runs.map((run) => run.result()));

    expect(new Set(runs.map((run) => run.workflowId)).size).toBe(1);
    expect(summaries[0]).toEqual({ total: 301, succeeded: 301, failed: 0, skipped: 0 });
    expect(await invoiceCounts(h.pool, otherDate)).toEqual({
      invoices: 301,
      subscriptions: 301,
      duplicates: 0,
      inactive: 0,
    });
  });

  it('keeps one invoice per subscription when two trigger workflows of one run overlap', async () => {
    // Bypass the client's shared workflow ID, as a second scheduler or a manual start might:
    // job IDs and the ledger still let each subscription be billed once.
    await insertSubscriptions(h.pool, 301);
    const runDate = '2027-01-01';
    const input = buildTriggerInput(h.tju.resolve('billing.issue-invoices', { date: runDate }), { window: 50, pageSize: 100 });
    const starts = ['a', 'b'].map((suffix) =>
      h.client.workflow.execute('triggerWorkflow', {
        workflowId: `billing.issue-invoices/${runDate}#${suffix}`,
        taskQueue: h.taskQueue,
        args: [input],
      }),
    );
    const [a, b] = (await Promise.all(starts)) as Array<{ total: number; succeeded: number; skipped: number; failed: number }>;

    expect(await invoiceCounts(h.pool, runDate)).toEqual({
      invoices: 301,
      subscriptions: 301,
      duplicates: 0,
      inactive: 0,
    });
    // Each trigger accounts for every target: its own job's outcome, or that of the job the other trigger had
    // already started under the same ID, which it waited for. None is counted as done without the ledger.
    // (A trigger that pages after the other has billed some selects fewer: the query leaves billed ones out.)
    for (const summary of [a, b]) {
      expect(summary.total).toBeGreaterThan(0);
      expect(summary).toMatchObject({ failed: 0, total: summary.succeeded + summary.skipped });
    }
  });
});

describe('partitions', () => {
  it('splits a run into key ranges, each a trigger of its own, and adds them up', async () => {
    const date = '2027-02-01';
    await insertSubscriptions(h.pool, 60);
    const { rows } = await h.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM subscriptions WHERE status = 'active'`);
    const active = rows[0].n;

    const run = await h.tju.trigger('billing.issue-invoices', { date }, { partitions: 3 });
    const summary = await run.result();

    expect(summary).toEqual({ total: active, succeeded: active, failed: 0, skipped: 0 });
    expect(await invoiceCounts(h.pool, date)).toEqual({ invoices: active, subscriptions: active, duplicates: 0, inactive: 0 });
    const parts = await Promise.all(
      [0, 1, 2].map((i) => h.client.workflow.getHandle(partitionWorkflowId(run.workflowId, i)).result() as Promise<{ total: number }>),
    );
    for (const part of parts) expect(part.total).toBeGreaterThan(active / 6); // really split, roughly evenly
    expect(parts.reduce((sum, part) => sum + part.total, 0)).toBe(active);
  });
});
