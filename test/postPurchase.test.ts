// The post-purchase example: a chain of four units per order whose options branch it, a call to a carrier API
// with an idempotency key (a regular, rate-limited activity), failures that name their step and a retry that
// resumes there, worker kills mid-chain, and the rate limit's bound across two workers.
import { processOrders } from '../examples/post-purchase/batches/process-orders';
import { applyShopSchema } from '../examples/post-purchase/schema';
import { seedOrders } from '../examples/post-purchase/demo/seed';
import { startShippingService, type ShippingService } from '../examples/post-purchase/shipping/server';
import { rateLimitedBilling } from './fixtures/batches';
import { insertSubscriptions, invoiceCounts } from './helpers/billing';
import { tju } from './helpers/cli';
import { startHarness, type Harness } from './helpers/harness';
import { startWorkerProcess, type WorkerProcess } from './helpers/workerProcess';
import { listFailures } from '../src/db/ledger';
import { TjuClient } from '../src/temporal/client';

let h: Harness;
let shipping: ShippingService;
beforeAll(async () => {
  shipping = await startShippingService({ delayMs: 5, failEvery: 7 });
  process.env.SHIPPING_URL = shipping.url; // the in-process worker's units read it
  h = await startHarness([processOrders, rateLimitedBilling]);
  await applyShopSchema(h.pool);
});
afterAll(async () => {
  await h.close();
  await shipping.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const count = async (sql: string) => (await h.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`)).rows[0].n;

it("runs exactly the steps each order's options call for, and writes exactly their rows", async () => {
  await seedOrders(h.pool, 0);
  const kinds = [
    // customer, amount, payment, shipping, postal code, first purchase, campaign
    ['digital-first', 2500, 'card', 'digital', null, true, null],
    ['express-autumn', 4000, 'bank-transfer', 'express', '100-0001', false, 'autumn'],
    ['standard-vip-first', 1999, 'convenience-store', 'standard', '100-0002', true, 'vip'],
    ['standard-plain', 800, 'card', 'standard', '100-0003', false, null],
  ] as const;
  for (const [customer, amount, payment, shippingType, postal, first, campaign] of kinds) {
    await h.pool.query(
      `INSERT INTO orders (customer, email, status, amount, payment_method, shipping_type, postal_code, is_first_purchase, campaign_id, completed_at)
       VALUES ($1, $1 || '@example.com', 'completed', $2, $3, $4, $5, $6, $7, now() - interval '1 hour')`,
      [customer, amount, payment, shippingType, postal, first, campaign],
    );
  }
  await h.pool.query(
    `INSERT INTO orders (customer, email, status, amount, payment_method, shipping_type) VALUES ('pending', 'p@example.com', 'pending', 100, 'card', 'standard')`,
  );
  // The seed's fourth dimension: the member's rank sets the points rate (gold ×2, silver ×1.5).
  await h.pool.query(`INSERT INTO members (customer, rank) VALUES ('express-autumn', 'gold'), ('standard-plain', 'silver')`);

  const summary = await (await h.tju.trigger('shop.process-orders', { date: '2099-01-01' })).result();
  expect(summary).toMatchObject({ total: 4, succeeded: 4, failed: 0 });
  expect(summary.steps).toEqual({
    'shop.issue-receipt': { succeeded: 4 },
    'shop.grant-points': { succeeded: 4 },
    'shop.request-shipping': { succeeded: 3, 'not-applicable': 1 },
    'shop.queue-notification': { succeeded: 4 },
  });
  const { rows } = await h.pool.query(
    `SELECT o.customer, r.number, p.points, p.reason, s.shipping_type AS shipped, n.payload->>'trackingNumber' IS NOT NULL AS tracked,
            n.kind, o.post_processed_at IS NOT NULL AS done
       FROM orders o LEFT JOIN receipts r ON r.order_id = o.id LEFT JOIN point_grants p ON p.order_id = o.id
       LEFT JOIN shipments s ON s.order_id = o.id LEFT JOIN notifications n ON n.order_id = o.id ORDER BY o.id`,
  );
  expect(rows).toEqual([
    {
      customer: 'digital-first',
      number: 'R-00000001',
      points: 525,
      reason: 'purchase, first purchase',
      shipped: null,
      tracked: false,
      kind: 'order-processed',
      done: true,
    },
    {
      customer: 'express-autumn',
      number: 'BT-00000002',
      points: 160, // 40 for 4,000, ×2 for gold, ×2 for the campaign
      reason: 'purchase, gold member, campaign autumn',
      shipped: 'express',
      tracked: true,
      kind: 'order-processed',
      done: true,
    },
    {
      customer: 'standard-vip-first',
      number: 'R-00000003',
      points: 779,
      reason: 'purchase, first purchase, campaign vip',
      shipped: 'standard',
      tracked: true,
      kind: 'order-processed',
      done: true,
    },
    {
      customer: 'standard-plain',
      number: 'R-00000004',
      points: 12, // 8 for 800, ×1.5 for silver
      reason: 'purchase, silver member',
      shipped: 'standard',
      tracked: true,
      kind: 'order-processed',
      done: true,
    },
    { customer: 'pending', number: null, points: null, reason: null, shipped: null, tracked: false, kind: null, done: false },
  ]);
});

it('a step that gives up stops the chain and names the step; retry resumes there, the steps before not run again', async () => {
  const seeded = await seedOrders(h.pool, 120);
  const date = '2099-01-02';
  const run = await h.tju.trigger('shop.process-orders', { date }, { granularity: 'per-chunk', chunkSize: 25 });
  const summary = await run.result();
  expect(summary).toMatchObject({ total: seeded.completed, failed: seeded.unshippable, succeeded: seeded.completed - seeded.unshippable });
  expect(summary.steps!['shop.request-shipping'].failed).toBe(seeded.unshippable);
  expect(summary.steps!['shop.queue-notification'].succeeded).toBe(seeded.completed - seeded.unshippable);

  const failures = await listFailures(h.pool, { batch: 'shop.process-orders', runKey: date });
  expect(failures).toHaveLength(seeded.unshippable);
  for (const f of failures)
    expect(f).toMatchObject({ unit: 'shop.request-shipping', nonRetryable: true, error: expect.stringContaining('no postal code') });
  const cli = await tju(['failures', 'shop.process-orders', '--date', date], h.env);
  expect(cli.stdout).toContain(
    `  shop.request-shipping  NonRetryableError: carrier refused order ${failures[0].targetKey}: the address has no postal code`,
  );
  // Steps 1–2 ran for the failed orders; 3–4 did not.
  const failed = failures.map((f) => f.targetKey);
  const before = await h.pool.query('SELECT order_id, issued_at FROM receipts WHERE order_id = ANY($1) ORDER BY order_id', [failed]);
  expect(before.rows).toHaveLength(failed.length);
  expect(await count(`point_grants WHERE order_id = ANY('{${failed}}')`)).toBe(failed.length);
  expect(await count(`shipments WHERE order_id = ANY('{${failed}}')`)).toBe(0);
  expect(await count(`notifications WHERE order_id = ANY('{${failed}}')`)).toBe(0);

  await h.pool.query(`UPDATE orders SET postal_code = '100-0001' WHERE id = ANY($1)`, [failed]);
  const retried = await (await h.tju.retry('shop.process-orders', { date })).result();
  expect(retried).toMatchObject({ total: failed.length, succeeded: failed.length, failed: 0 });
  // The ledger skipped steps 1–2 without running them; 3–4 ran.
  expect(retried.steps).toEqual({
    'shop.issue-receipt': { skipped: failed.length },
    'shop.grant-points': { skipped: failed.length },
    'shop.request-shipping': { succeeded: failed.length },
    'shop.queue-notification': { succeeded: failed.length },
  });
  expect(
    (await h.pool.query('SELECT order_id, issued_at FROM receipts WHERE order_id = ANY($1) ORDER BY order_id', [failed])).rows,
  ).toEqual(before.rows);
  expect(await listFailures(h.pool, { batch: 'shop.process-orders', runKey: date })).toEqual([]);
  expect(await count(`orders WHERE status = 'completed' AND post_processed_at IS NULL`)).toBe(0);
});

it('survives three worker kills in a 2,000-order run: each receipt, grant, shipment and notification once', async () => {
  const seeded = await seedOrders(h.pool, 2000);
  await h.pool.query(`UPDATE orders SET postal_code = '100-0001' WHERE postal_code IS NULL AND shipping_type <> 'digital'`);
  // A carrier of its own: the seed numbers orders from 1 again, and a shipment's key is its order's.
  const carrier = await startShippingService({ delayMs: 5, failEvery: 7 });
  const queue = { TJU_TASK_QUEUE: `${h.taskQueue}-kill`, SHIPPING_URL: carrier.url };
  const client = new TjuClient({ client: h.client, batches: [processOrders], taskQueue: queue.TJU_TASK_QUEUE });
  let worker: WorkerProcess = await startWorkerProcess(h, queue);
  try {
    const run = await client.trigger('shop.process-orders', { date: '2099-01-03' }, { granularity: 'per-chunk', chunkSize: 50 });
    for (const threshold of [300, 900, 1500]) {
      while ((await count(`notifications`)) < threshold) await sleep(100);
      await worker.kill('SIGKILL');
      worker = await startWorkerProcess(h, queue);
    }
    const summary = await run.result();
    expect(summary).toMatchObject({ total: seeded.completed, failed: 0 });
  } finally {
    await worker.kill('SIGTERM');
    await carrier.close();
  }
  const physical = await count(`orders WHERE status = 'completed' AND shipping_type <> 'digital'`);
  expect(await count('receipts')).toBe(seeded.completed);
  expect(await count('point_grants')).toBe(seeded.completed);
  expect(await count('shipments')).toBe(physical);
  expect(await count('notifications')).toBe(seeded.completed);
  // The carrier accepted one shipment per physical order: a request repeated after a kill was deduplicated there.
  expect(carrier.stats().accepted).toBe(physical);
}, 600_000); // 2,000 orders through three restarts: minutes on a loaded two-core machine

it("runs a rate-limited unit's activities on a queue of its own, polled by every worker, each target once", async () => {
  // How fast the limit lets them through is the benchmark's to measure (npm run bench:rate-limit).
  await insertSubscriptions(h.pool, 200);
  const queue = { TJU_TASK_QUEUE: `${h.taskQueue}-rate` };
  const client = new TjuClient({ client: h.client, batches: [rateLimitedBilling], taskQueue: queue.TJU_TASK_QUEUE });
  const workers = [await startWorkerProcess(h, queue), await startWorkerProcess(h, queue)];
  let run;
  try {
    run = await client.trigger('test.rate-limited-billing', { date: '2099-01-04' }, { granularity: 'per-chunk', chunkSize: 50, window: 4 });
    expect(await run.result()).toMatchObject({ total: 200, succeeded: 200 });
  } finally {
    await Promise.all(workers.map((w) => w.kill('SIGTERM')));
  }
  expect(await invoiceCounts(h.pool, '2099-01-04')).toMatchObject({ invoices: 200, duplicates: 0 });
  // Every unit's activity task went to the unit's own queue, whose rate limit Temporal applies.
  const chunks = [];
  for await (const wf of h.client.workflow.list({ query: `WorkflowType = 'chunkJobWorkflow' AND TaskQueue = '${queue.TJU_TASK_QUEUE}'` }))
    chunks.push(wf);
  expect(chunks).toHaveLength(4);
  const queues = new Set<string>();
  for (const chunk of chunks) {
    const history = await h.client.workflow.getHandle(chunk.workflowId, chunk.runId).fetchHistory();
    for (const event of history.events ?? []) {
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled?.activityType?.name === 'runUnit') queues.add(scheduled.taskQueue?.name ?? '');
    }
  }
  expect([...queues]).toEqual([`${queue.TJU_TASK_QUEUE}.test.rate-limited-issue-invoice`]);
});
