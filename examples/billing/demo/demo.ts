import type { Pool } from 'pg';
import {
  connectClient,
  connectWorker,
  createPool,
  createProgressBar,
  createWorker,
  describeUrl,
  ensureSearchAttributes,
  listFailures,
  localDate,
  logger,
  migrate,
  TjuClient,
  uiUrlFor,
  type Batch,
  type Config,
} from 'tju';
import { ensureTemporalCli } from 'tju/testing';
import { demoDatabaseUrl, temporalForDemo } from '../../shared/localTemporal';
import { applyBillingSchema } from '../schema';
import { seedSubscriptions } from './seed';

const BATCH = 'billing.issue-invoices';
const TASK_QUEUE = 'tju-demo';

export async function runDemo(batches: readonly Batch[], config: Config, subscriptions: number): Promise<void> {
  // The demo's failures are expected and summarised below; keep their warnings off the screen.
  if (!process.env.TJU_LOG_LEVEL) logger.level = 'error';
  const databaseUrl = demoDatabaseUrl(config.databaseUrl, 'tju_demo');
  await migrate(databaseUrl);
  const temporal = await temporalForDemo(config);
  const pool: Pool = createPool(databaseUrl, config.maxConcurrentUnits);
  await applyBillingSchema(pool);
  const client = await connectClient(temporal.target);
  await ensureSearchAttributes(client.connection, config.namespace);
  const connection = await connectWorker(temporal.target);
  const worker = await createWorker({
    connection,
    namespace: config.namespace,
    taskQueue: TASK_QUEUE,
    batches,
    pool,
    maxConcurrentUnits: config.maxConcurrentUnits,
    payloadCodec: config.temporal.codec,
  });
  const working = worker.run();
  try {
    const seeded = await seedSubscriptions(pool, subscriptions);
    console.log(
      `Seeded ${describeUrl(databaseUrl)}: ${seeded.active} active subscriptions ` +
        `(${seeded.broken} with no monthly fee, which fail), ${seeded.inactive} inactive.`,
    );
    const tju = new TjuClient({ client, batches, taskQueue: TASK_QUEUE, uiUrl: uiUrlFor(config, temporal.target.address) });
    const date = localDate(new Date());

    const started = Date.now();
    const run = await tju.trigger(BATCH, { date });
    const bar = createProgressBar(run.workflowId);
    const summary = await run.wait((progress) => bar.update(progress)).finally(() => bar.stop());
    const seconds = (Date.now() - started) / 1000;
    const units = summary.succeeded + summary.failed + summary.skipped;
    console.log(
      `\nRun ${run.workflowId}: issued ${summary.succeeded}, skipped ${summary.skipped}, failed ${summary.failed} ` +
        `of ${summary.total} in ${seconds.toFixed(1)}s (${(units / seconds).toFixed(0)} units/s)`,
    );
    for (const failure of (await listFailures(pool, { batch: BATCH, runKey: date })).slice(0, 5)) {
      console.log(`  failed: subscription ${failure.targetKey}: ${failure.error} (${failure.attempts} attempt(s))`);
    }

    const again = await (await tju.trigger(BATCH, { date })).result();
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM invoices WHERE billing_date = $1', [date]);
    console.log(
      `Same date again: ${again.total} targets still unbilled (the ones that fail), ${again.succeeded} new invoices; ` +
        `${rows[0].n} invoices for ${date}, one per billable subscription.`,
    );

    // The first run, the one the numbers above describe; the re-run is the latest under the same ID.
    console.log(`\nWeb UI (the first run): ${run.uiUrl}`);
    console.log(
      `Its status, with the re-run: DATABASE_URL=${databaseUrl} TJU_TASK_QUEUE=${TASK_QUEUE} npm run billing -- status ${BATCH} --date ${date}`,
    );
    console.log(
      `Inspect with Temporal's CLI: ${ensureTemporalCli()} workflow list --address ${temporal.target.address} ` +
        `--query "TjuBatch='${BATCH}' AND TjuRunKey='${date}'"`,
    );
    if (temporal.started) {
      console.log(`The Temporal dev server stays up for the UI (pid ${temporal.started}); stop it with: kill ${temporal.started}`);
    }
  } finally {
    worker.shutdown();
    await working;
    await connection.close();
    await client.connection.close();
    await pool.end();
  }
}
