import type { Pool } from 'pg';
import {
  connectClient,
  connectWorker,
  createPool,
  createProgressBar,
  createUnitWorkers,
  createWorker,
  ensureSearchAttributes,
  listFailures,
  localDate,
  logger,
  migrate,
  TjuClient,
  type Batch,
  type Config,
  type RunSummary,
} from 'tju';
import { demoDatabaseUrl, temporalForDemo } from '../../shared/localTemporal';
import { applyShopSchema } from '../schema';
import { startShippingService } from '../shipping/server';
import { seedOrders } from './seed';

const BATCH = 'shop.process-orders';
const TASK_QUEUE = 'tju-shop-demo';

const steps = (summary: RunSummary) =>
  Object.entries(summary.steps ?? {})
    .map(
      ([unit, counts]) =>
        `    ${unit.padEnd(24)} ${Object.entries(counts)
          .map(([outcome, n]) => `${outcome} ${n}`)
          .join(', ')}`,
    )
    .join('\n');

/**
 * The seed's post-purchase story: orders whose options branch the chain (digital goods skip shipping, first
 * purchases and campaigns change the points), a carrier that refuses some first requests (retried) and every
 * order without a postal code (a failure naming its step), the fix, and a retry that resumes at that step.
 */
export async function runDemo(batches: readonly Batch[], config: Config, orders: number): Promise<void> {
  if (!process.env.TJU_LOG_LEVEL) logger.level = 'error';
  const databaseUrl = demoDatabaseUrl(config.databaseUrl, 'tju_shop_demo');
  await migrate(databaseUrl);
  const temporal = await temporalForDemo(config);
  const pool: Pool = createPool(databaseUrl, config.maxConcurrentUnits * 2);
  await applyShopSchema(pool);
  const shipping = await startShippingService({ delayMs: 20, failEvery: 7 });
  process.env.SHIPPING_URL = shipping.url;
  const client = await connectClient(temporal.target);
  await ensureSearchAttributes(client.connection, config.namespace);
  const connection = await connectWorker(temporal.target);
  const options = {
    connection,
    namespace: config.namespace,
    taskQueue: TASK_QUEUE,
    batches,
    pool,
    maxConcurrentUnits: config.maxConcurrentUnits,
  };
  const workers = [await createWorker(options), ...(await createUnitWorkers(options))];
  const working = Promise.all(workers.map((worker) => worker.run()));
  try {
    const seeded = await seedOrders(pool, orders);
    console.log(`Seeded ${orders} orders: ${seeded.completed} completed, ${seeded.unshippable} of them without a postal code.`);
    const tju = new TjuClient({ client, batches, taskQueue: TASK_QUEUE });
    const date = localDate(new Date());

    const run = await tju.trigger(BATCH, { date }, { granularity: 'per-chunk', chunkSize: 50 });
    const bar = createProgressBar(run.workflowId);
    const summary = await run.wait((progress) => bar.update(progress)).finally(() => bar.stop());
    console.log(`\n1. The run: ${summary.succeeded} orders post-processed, ${summary.failed} failed. Per step:\n${steps(summary)}`);
    const stats = shipping.stats();
    console.log(`   The carrier got ${stats.requests} requests: refused ${stats.refused} with 503 (retried), accepted ${stats.accepted}.`);

    const failures = await listFailures(pool, { batch: BATCH, runKey: date });
    console.log(`\n2. tju failures ${BATCH} --date ${date}: ${failures.length} order(s), each naming the step that gave up:`);
    for (const f of failures.slice(0, 3)) console.log(`    order ${f.targetKey}  ${f.unit}  ${f.errorType}: ${f.error}`);

    const fixed = await pool.query(
      `UPDATE orders SET postal_code = '100-0001' WHERE postal_code IS NULL AND shipping_type <> 'digital' AND status = 'completed'`,
    );
    console.log(`\n3. The fix: ${fixed.rowCount} postal code(s) filled in.`);

    const retried = await (await tju.retry(BATCH, { date })).result();
    console.log(
      `\n4. tju retry ${BATCH} --date ${date}: ${retried.succeeded} of ${retried.total} done, resuming at the step that failed:\n${steps(retried)}`,
    );

    const { rows } = await pool.query(
      `SELECT (SELECT count(*) FROM receipts)::int AS receipts, (SELECT count(*) FROM point_grants)::int AS points,
              (SELECT count(*) FROM shipments)::int AS shipments, (SELECT count(*) FROM notifications)::int AS notifications`,
    );
    const after = shipping.stats();
    console.log(
      `\n5. Exactly once: ${rows[0].receipts} receipts, ${rows[0].points} point grants, ${rows[0].shipments} shipments ` +
        `(${after.accepted} accepted by the carrier), ${rows[0].notifications} notifications queued.`,
    );
    if (temporal.started)
      console.log(`\nThe Temporal dev server stays up for the UI (pid ${temporal.started}); stop it with: kill ${temporal.started}`);
  } finally {
    for (const worker of workers) worker.shutdown();
    await working;
    await connection.close();
    await client.connection.close();
    await shipping.close();
    await pool.end();
  }
}
