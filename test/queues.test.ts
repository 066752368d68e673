// Ordering and isolation: an ordered batch commits in key order; a slow batch on its own task queue does not
// hold up another batch.
import { issueInvoices } from '../examples/billing/batches/issue-invoices';
import { concurrency, gate, isolatedSlowBilling, orderedBilling } from './fixtures/batches';
import { startHarness, type Harness } from './helpers/harness';
import { insertSubscriptions, invoiceCounts } from './helpers/billing';

let h: Harness;
const slowQueue = `slow-${process.pid}`;
const slowUnits = gate();
beforeAll(async () => {
  h = await startHarness([issueInvoices, orderedBilling, isolatedSlowBilling(slowQueue, slowUnits.opened)]);
  await h.startWorker({ taskQueue: slowQueue, maxConcurrentUnits: 2 });
  await insertSubscriptions(h.pool, 30);
});
afterAll(() => h.close());

it('processes an ordered batch one target at a time, in key order', async () => {
  concurrency.reset();
  const date = '2026-11-01';
  const summary = await (await h.tju.trigger('test.ordered-billing', { date })).result();

  expect(summary).toEqual({ total: 30, succeeded: 30, failed: 0, skipped: 0 });
  expect(concurrency.max).toBe(1);
  // Invoice ids are handed out at insert: their order is the commit order of the units.
  const { rows } = await h.pool.query<{ subscription_id: string }>(
    'SELECT subscription_id FROM invoices WHERE billing_date = $1 ORDER BY id',
    [date],
  );
  const committed = rows.map((r) => Number(r.subscription_id));
  expect(committed).toEqual([...committed].sort((a, b) => a - b));
  expect(committed).toHaveLength(30);
});

it('finishes a batch on the default queue while a slow batch saturates its own queue', async () => {
  const slowDate = '2026-11-02';
  const fastDate = '2026-11-03';
  const slow = await h.tju.trigger('test.isolated-slow-billing', { date: slowDate });
  // The slow batch's queue has 2 unit slots, both held by units that wait for the gate: it is saturated
  // until the test opens it.
  const fast = await (await h.tju.trigger('billing.issue-invoices', { date: fastDate })).result();

  expect(fast).toEqual({ total: 30, succeeded: 30, failed: 0, skipped: 0 });
  expect((await slow.status()).state).toBe('RUNNING');
  expect((await invoiceCounts(h.pool, slowDate)).invoices).toBe(0);
  slowUnits.open();

  const done = await slow.result();
  expect(done).toEqual({ total: 30, succeeded: 30, failed: 0, skipped: 0 });
  // Everything of the slow batch ran on its own queue.
  const elsewhere = await h.client.workflow.count(`TjuBatch = 'test.isolated-slow-billing' AND TaskQueue != '${slowQueue}'`);
  expect(elsewhere.count).toBe(0);
}, 120_000);
