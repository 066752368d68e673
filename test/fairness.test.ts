// Fairness inside a run: a tenant of 50 orders is not stuck behind one of 5,000 whose keys sort first, and no
// tenant ever has more than its bound in flight — in bulk chunks and in child workflows across a worker SIGKILL.
import { defineBatch } from 'tju';
import { jobWorkflowId } from '../src/contracts/ids';
import { applyTenantSchema, fairOrders, insertTenantOrders, maxOverlapByTenant } from './fixtures/tenants';
import { startHarness, type Harness } from './helpers/harness';
import { until } from './helpers/wait';
import { startWorkerProcess } from './helpers/workerProcess';

const bulkFairOrders = defineBatch({
  ...fairOrders,
  name: 'test.fair-orders-bulk',
  job: { ...fairOrders.job, maxInFlightPerKey: 20 },
  trigger: { granularity: 'bulk', window: 4, chunkConcurrency: 20 },
});

let h: Harness;
beforeAll(async () => {
  h = await startHarness([fairOrders, bulkFairOrders], { worker: false });
  await applyTenantSchema(h.pool);
});
afterAll(() => h.close());
beforeEach(() => h.pool.query('TRUNCATE tenant_orders, tenant_effects, tju.ledger, tju.failures'));

const count = async (sql: string, params: unknown[] = []) =>
  (await h.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params)).rows[0].n;
/** Effects of `tenant` committed before the last of the small tenant's: the big tenant's progress when it was done. */
const doneBeforeSmallFinished = (runKey: string, tenant: string) =>
  count(
    `tenant_effects WHERE run_key = $1 AND tenant = $2 AND seq < (SELECT max(seq) FROM tenant_effects WHERE run_key = $1 AND tenant = 'small')`,
    [runKey, tenant],
  );

it('finishes a tenant of 50 before one of 5,000 is a tenth done, each tenant at most 20 in flight (bulk)', async () => {
  await insertTenantOrders(h.pool, 'big', 'a', 5000);
  await insertTenantOrders(h.pool, 'small', 'z', 50);
  const worker = await h.startWorker();
  try {
    // A short history: the run continues as new several times, between its fair pages.
    const run = await h.tju.trigger(bulkFairOrders, { date: '2099-07-01' }, { maxHistoryEvents: 300 });
    expect(await run.result()).toMatchObject({ total: 5050, succeeded: 5050, failed: 0 });
    expect((await run.progress()).continuedRuns).toBeGreaterThan(2);
  } finally {
    await worker.stop();
  }
  expect(await count(`tenant_effects WHERE run_key = '2099-07-01'`)).toBe(5050);
  expect(await count(`(SELECT key FROM tenant_effects GROUP BY key HAVING count(*) > 1) d`)).toBe(0);
  const bigWhenSmallDone = await doneBeforeSmallFinished('2099-07-01', 'big');
  console.log(`bulk: the big tenant had ${bigWhenSmallDone} of 5,000 done when the small tenant's 50 were`);
  expect(bigWhenSmallDone).toBeLessThan(500);
  const overlap = await maxOverlapByTenant(h.pool, '2099-07-01');
  expect(overlap.big).toBeLessThanOrEqual(20);
  expect(overlap.small).toBeLessThanOrEqual(20);
  // The bound is what held it: the big tenant used it.
  expect(overlap.big).toBeGreaterThan(3);
  // Every page's queue is gone with the run.
  expect(await count('tju.fair_queue')).toBe(0);
}, 300_000);

it('holds each tenant to 3 in flight in child workflows through a worker SIGKILL; every order ends once, as an effect or a failure', async () => {
  await insertTenantOrders(h.pool, 'big', 'a', 240, { broken: 40, flaky: 25 });
  await insertTenantOrders(h.pool, 'small', 'z', 24, { broken: 12, flaky: 10 });
  await insertTenantOrders(h.pool, `o'brien "&" co`, 'q', 12);
  const broken = await count('tenant_orders WHERE broken');
  let worker = await startWorkerProcess(h);
  try {
    const run = await h.tju.trigger('test.fair-orders', { date: '2099-07-02' }, { maxHistoryEvents: 400 });
    await until(
      () => count('tenant_effects'),
      (n) => n >= 20,
      'the first effects',
    );
    await worker.kill('SIGKILL');
    worker = await startWorkerProcess(h);
    const summary = await run.result();
    // Temporal sees the batch's priority on the run and its jobs, and each job's tenant as its fairness key.
    const priorityOf = async (workflowId: string) =>
      (await h.client.workflow.getHandle(workflowId).describe()).raw.workflowExecutionInfo?.priority;
    expect(await priorityOf(run.workflowId)).toMatchObject({ priorityKey: 2 });
    expect(await priorityOf(jobWorkflowId('test.fair-orders', '2099-07-02', 'z00003'))).toMatchObject({
      priorityKey: 2,
      fairnessKey: 'small',
    });
    // An order whose unit committed just before the SIGKILL is counted skipped when its job runs again.
    expect(summary).toMatchObject({ total: 276, failed: broken });
    expect(summary.succeeded + summary.skipped).toBe(276 - broken);
  } finally {
    await worker.kill('SIGKILL');
  }
  // Every order: one effect, or (broken) one open failure and no effect.
  expect(await count(`tenant_effects WHERE run_key = '2099-07-02'`)).toBe(276 - broken);
  expect(await count(`(SELECT key FROM tenant_effects GROUP BY key HAVING count(*) > 1) d`)).toBe(0);
  expect(await count(`tju.failures f JOIN tenant_orders o ON o.key = f.target_key WHERE o.broken`)).toBe(broken);
  expect(await count(`tenant_effects e JOIN tenant_orders o USING (key) WHERE o.broken`)).toBe(0);
  expect(
    await count(`tenant_orders o WHERE o.flaky AND NOT o.broken AND NOT EXISTS (SELECT 1 FROM tenant_effects e WHERE e.key = o.key)`),
  ).toBe(0);
  const overlap = await maxOverlapByTenant(h.pool, '2099-07-02');
  expect(Math.max(...Object.values(overlap))).toBeLessThanOrEqual(3);
  // The small tenants' keys sort after the big one's, yet they finished long before it.
  expect(await doneBeforeSmallFinished('2099-07-02', 'big')).toBeLessThan(120);
  expect(await count('tju.fair_queue')).toBe(0);
}, 600_000);
