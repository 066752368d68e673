// Fan-out bounds: the window caps jobs in flight; a long run continues as new with correct totals.
import { slowBilling, slowerBilling, concurrency } from './fixtures/batches';
import { startHarness, type Harness } from './helpers/harness';
import { insertSubscriptions, invoiceCounts } from './helpers/billing';
import type { TriggerState } from '../workflows/types';

let h: Harness;
beforeAll(async () => {
  h = await startHarness([slowBilling, slowerBilling], { worker: false });
  await h.startWorker({ maxConcurrentUnits: 50 }); // more unit slots than the window, so the window is the cap
  await insertSubscriptions(h.pool, 120);
});
afterAll(() => h.close());

it('never has more than the window of 10 jobs in flight', async () => {
  concurrency.reset();
  const date = '2026-11-01';
  const run = await h.tju.trigger('test.slow-billing', { date });
  let maxInFlight = 0;
  const summary = await run.wait((p) => (maxInFlight = Math.max(maxInFlight, p.inFlight)), 20);

  expect(summary).toEqual({ total: 120, succeeded: 120, failed: 0, skipped: 0 });
  expect(maxInFlight).toBeGreaterThan(0);
  expect(maxInFlight).toBeLessThanOrEqual(10);
  expect(concurrency.max).toBeLessThanOrEqual(10);
  expect(concurrency.max).toBeGreaterThanOrEqual(5); // the window is really used, not serialised
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
  // Limit + the events of the starts under way when it was reached bounds every run's history.
  for (const r of runs) expect(r.historyLength).toBeLessThan(150 + 10 * 8);

  // The window does not drain at continue-as-new: a run continues while its last jobs still run, and the
  // next run carries them over and counts them as they end.
  let carried = 0;
  for (const r of runs) {
    const { events } = await h.client.workflow.getHandle(run.workflowId, r.runId).fetchHistory();
    const state = events?.[0].workflowExecutionStartedEventAttributes?.input?.payloads?.[1];
    if (state) carried += (JSON.parse(Buffer.from(state.data!).toString()) as TriggerState).jobsInFlight?.length ?? 0;
  }
  expect(carried).toBeGreaterThan(0);
});

it('counts a carried-over job that was terminated by hand as failed, and ends', async () => {
  const date = '2026-11-05';
  const run = await h.tju.trigger('test.slower-billing', { date }, { maxHistoryEvents: 40 });
  // Subscription 5's job takes 8 s: wait until a later run has carried it over, then terminate it.
  const victim = `test.slower-billing/${date}/5`;
  for (;;) {
    const { events } = await h.client.workflow.getHandle(run.workflowId).fetchHistory();
    const state = events?.[0].workflowExecutionStartedEventAttributes?.input?.payloads?.[1];
    const jobs = state ? (JSON.parse(Buffer.from(state.data!).toString()) as TriggerState).jobsInFlight : undefined;
    if (jobs?.includes(victim)) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await h.client.workflow.getHandle(victim).terminate('by hand');

  const summary = await run.result();
  expect(summary).toMatchObject({ total: 120, failed: 1 });
  expect(summary.succeeded + summary.skipped).toBe(119);
  expect(await invoiceCounts(h.pool, date)).toMatchObject({ duplicates: 0 });
}, 120_000);

it('per-chunk: at most the window of chunk jobs in flight, each running its chunk concurrency', async () => {
  concurrency.reset();
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
  expect(concurrency.max).toBeGreaterThanOrEqual(3);
  expect(await invoiceCounts(h.pool, date)).toMatchObject({ invoices: 120, duplicates: 0 });
});
