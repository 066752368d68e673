// The carrier's circuit breaker: the carrier goes down mid-run for a dozen cool-offs (about a minute), across a
// worker SIGKILL while the breaker is open. Every order ships once, none is recorded failed for the outage, and
// the carrier saw few calls while it was down.
import { applyShopSchema } from '../examples/post-purchase/schema';
import { seedOrders } from '../examples/post-purchase/demo/seed';
import { startShippingService, type ShippingService } from '../examples/post-purchase/shipping/server';
import { breakerOrders } from './fixtures/breakerOrders';
import { applyThingsSchema, effectsOf, insertThings, things } from './fixtures/things';
import { defineBatch, defineUnit } from 'tju';
import { tju } from './helpers/cli';
import { startHarness, type Harness } from './helpers/harness';
import { until } from './helpers/wait';
import { createDashboard } from '../src/dashboard';
import { startWorkerProcess } from './helpers/workerProcess';

let h: Harness;
let shipping: ShippingService;
beforeAll(async () => {
  shipping = await startShippingService({ delayMs: 5 });
  h = await startHarness([breakerOrders, guardedThings], { worker: false });
  await applyShopSchema(h.pool);
});
afterAll(async () => {
  await h.close();
  await shipping.close();
});

/** A service the bulk test takes down: every call fails while it is, and the calls are counted. */
const service = { down: false, callsWhileDown: 0 };
const guardedThings = defineBatch({
  ...things,
  name: 'test.guarded-things',
  unit: defineUnit<{ key: string; runKey: string }>({
    name: 'test.guarded-call',
    retry: { maximumAttempts: 3, initialInterval: '50ms' },
    breaker: { failures: 5, within: '1m', coolOff: '2s' },
    async run(tx, { key, runKey }) {
      if (service.down) {
        service.callsWhileDown++;
        throw new Error('service unavailable');
      }
      await tx.query('INSERT INTO thing_effects (key, run_key) VALUES ($1, $2)', [key, runKey]);
    },
  }),
});

const count = async (sql: string) => (await h.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`)).rows[0].n;
const events = async () =>
  (await h.pool.query<{ event: string }>(`SELECT event FROM tju.breaker_events WHERE unit = 'shop.request-shipping' ORDER BY id`)).rows.map(
    (r) => r.event,
  );

it('holds the carrier calls while it is down, through a worker SIGKILL, and ships every order once when it is back', async () => {
  const seeded = await seedOrders(h.pool, 300);
  const shippable = await count(`orders WHERE status = 'completed' AND shipping_type <> 'digital' AND postal_code IS NOT NULL`);
  const env = { SHIPPING_URL: shipping.url };
  let worker = await startWorkerProcess(h, env);
  try {
    const date = '2099-03-01';
    const run = await h.tju.trigger('test.breaker-orders', { date });
    await until(
      () => count('shipments'),
      (n) => n >= 30,
      'the first shipments',
    );

    shipping.setDown(true);
    await until(events, (e) => e.includes('opened'), 'the breaker opening');
    const status = await tju(['status', 'test.breaker-orders', '--date', date], h.env);
    expect(status.stdout).toMatch(/breaker (open|half-open): shop\.request-shipping, 5 failures in \d+ s/);
    const dashboard = createDashboard({ pool: h.pool, tju: h.tju, client: h.client, batches: [breakerOrders], taskQueue: h.taskQueue });
    try {
      const { rows } = await h.pool.query(`SELECT id::text FROM tju.runs WHERE run_key = $1`, [date]);
      const page = await (await dashboard.fetch(new Request(`http://localhost/runs/${rows[0].id}`))).text();
      expect(page).toMatch(
        /<section id="breakers">\s*<div class="error">\s*breaker (open|half-open): shop\.request-shipping, 5 failures in \d+ s/,
      );
    } finally {
      await dashboard.close();
    }
    // A new worker (the old one killed while the breaker is open) reads the same breaker from PostgreSQL.
    await worker.kill('SIGKILL');
    worker = await startWorkerProcess(h, env);
    // Down for a dozen cool-offs of 5 s: each lets one order probe the carrier, and each probe fails.
    await until(events, (e) => e.filter((x) => x === 'reopened').length >= 12, 'twelve failed probes', 180_000);
    const shippedWhileDown = await count('shipments');
    shipping.setDown(false);

    const summary = await run.result();
    // Every shippable order shipped exactly once; the only failures are the orders no carrier takes (no postal code).
    expect(await count('shipments')).toBe(shippable);
    expect(shipping.accepted.size).toBe(shippable);
    expect(await count('(SELECT order_id FROM shipments GROUP BY order_id HAVING count(*) > 1) d')).toBe(0);
    expect(summary).toMatchObject({ total: seeded.completed, failed: seeded.unshippable });
    const failures = await h.pool.query<{ error: string }>(`SELECT error FROM tju.failures`);
    expect(failures.rows.every((f) => f.error.includes('no postal code'))).toBe(true);
    // While it was down the carrier heard the failures that opened the breaker, those already in flight, and one
    // probe per cool-off — not every waiting order five times.
    const waiting = shippable - shippedWhileDown;
    expect(shipping.whileDown()).toBeLessThan(80);
    expect(waiting * 5).toBeGreaterThan(shipping.whileDown() * 10);
    console.log(`carrier calls while down: ${shipping.whileDown()}, for ${waiting} orders waiting (5 attempts each without a breaker)`);
    const seen = await events();
    expect(seen[0]).toBe('opened');
    expect(seen.at(-1)).toBe('closed');
    expect((await tju(['status', 'test.breaker-orders', '--date', date], h.env)).stdout).not.toMatch(/breaker (open|half-open)/);
  } finally {
    await worker.kill('SIGKILL');
  }
}, 600_000);

it('in a bulk chunk, lanes wait inside the chunk while the breaker is open, spending no attempt', async () => {
  await applyThingsSchema(h.pool);
  await h.pool.query('TRUNCATE things, thing_effects, tju.ledger, tju.failures, tju.breakers, tju.breaker_events');
  await insertThings(
    h.pool,
    Array.from({ length: 200 }, (_, i) => ({ key: `t${String(i).padStart(3, '0')}` })),
  );
  const worker = await h.startWorker();
  try {
    service.down = true;
    const run = await h.tju.trigger('test.guarded-things', { date: '2099-05-01' }, { granularity: 'bulk', chunkSize: 50 });
    const guarded = async () =>
      (await h.pool.query<{ event: string }>(`SELECT event FROM tju.breaker_events WHERE unit = 'test.guarded-call' ORDER BY id`)).rows.map(
        (r) => r.event,
      );
    await until(guarded, (e) => e.filter((x) => x === 'reopened').length >= 3, 'three failed probes');
    service.down = false;
    expect(await run.result()).toMatchObject({ total: 200, succeeded: 200, failed: 0 });
    const effects = await effectsOf(h.pool, '2099-05-01');
    expect(effects.size).toBe(200);
    expect([...effects.values()].every((n) => n === 1)).toBe(true);
    expect(await count('tju.failures')).toBe(0);
    // The lanes in flight when it went down, up to the five that opened it, then one probe per cool-off.
    expect(service.callsWhileDown).toBeLessThan(40);
    expect((await guarded()).at(-1)).toBe('closed');
  } finally {
    await worker.stop();
  }
});
