// Fan-out bounds: the window caps jobs in flight; a long run continues as new with correct totals.
import { slowBilling, concurrency } from './fixtures/batches';
import { startHarness, type Harness } from './helpers/harness';
import { insertSubscriptions, invoiceCounts } from './helpers/billing';

let h: Harness;
beforeAll(async () => {
  h = await startHarness([slowBilling], { worker: false });
  await h.startWorker({ maxConcurrentUnits: 50 }); // more unit slots than the window, so the window is the cap
  await insertSubscriptions(h.pool, 120);
});
afterAll(() => h.close());

it('never has more than the window of 10 jobs in flight', async () => {
  concurrency.reset(5); // the window is really used, not serialised: five units meet before any goes on
  const date = '2026-11-01';
  const run = await h.tju.trigger('test.slow-billing', { date });
  let maxInFlight = 0;
  const summary = await run.wait((p) => (maxInFlight = Math.max(maxInFlight, p.inFlight)), 20);

  expect(summary).toEqual({ total: 120, succeeded: 120, failed: 0, skipped: 0 });
  expect(maxInFlight).toBeGreaterThan(0);
  expect(maxInFlight).toBeLessThanOrEqual(10);
  expect(concurrency.max).toBeLessThanOrEqual(10);
});

it('continues as new when its history passes the limit, keeping totals and each history short', async () => {
  const date = '2026-11-02';
  const run = await h.tju.trigger('test.slow-billing', { date }, { maxHistoryEvents: 150 });
  const summary = await run.result();

  expect(summary).toEqual({ total: 120, succeeded: 120, failed: 0, skipped: 0 });
  expect(await invoiceCounts(h.pool, date)).toMatchObject({ invoices: 120, duplicates: 0 });

  const runs = [];
  for await (const wf of h.client.workflow.list({ query: `WorkflowId = '${run.workflowId}'` })) runs.push(wf);
  expect(runs.length).toBeGreaterThanOrEqual(2);
  expect(runs.filter((r) => r.status.name === 'CONTINUED_AS_NEW').length).toBe(runs.length - 1);
  // Limit + one window of children draining (a few events each) bounds every run's history.
  for (const r of runs) expect(r.historyLength).toBeLessThan(150 + 10 * 8);
});

it('per-chunk: at most the window of chunk jobs in flight, each running its chunk concurrency', async () => {
  concurrency.reset(3); // a chunk's three lanes really overlap
  const date = '2026-11-03';
  const run = await h.tju.trigger(
    'test.slow-billing',
    { date },
    { granularity: 'per-chunk', chunkSize: 10, chunkConcurrency: 3, window: 2 },
  );
  let maxInFlight = 0;
  const summary = await run.wait((p) => (maxInFlight = Math.max(maxInFlight, p.inFlight)), 20);

  expect(summary).toEqual({ total: 120, succeeded: 120, failed: 0, skipped: 0 });
  expect(maxInFlight).toBeLessThanOrEqual(2);
  expect(concurrency.max).toBeLessThanOrEqual(2 * 3);
  expect(await invoiceCounts(h.pool, date)).toMatchObject({ invoices: 120, duplicates: 0 });
});
