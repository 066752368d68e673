// npm run bench:rate-limit -- [--calls 1000] [--workers 2] [--runs 3]
// A unit's rate limit is its task queue's, so it holds across every worker: `calls` units limited to 50 a
// second, on `workers` worker processes, should take calls / 50 seconds from the first commit to the last.
// Wall-clock figures, so they belong here, not in the test suite; the median of `runs` runs is reported.
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { Command } from 'commander';
import { applyBillingSchema } from '../examples/billing/schema';
import { positiveInt } from '../src/cli/parsers';
import { migrate } from '../src/db/migrate';
import { createPool } from '../src/db/pool';
import { TjuClient } from '../src/temporal/client';
import { startDevServerOnFreePorts } from '../src/temporal/devServer';
import { bundleWorkflows } from '../src/temporal/worker';
import { RATE_LIMIT, rateLimitedBilling } from './rateLimitedBatch';
import { startWorkers } from './workerProcesses';

async function main() {
  const options = new Command('bench:rate-limit')
    .option('--calls <n>', 'units to run per run', positiveInt, 1000)
    .option('--workers <n>', 'worker processes', positiveInt, 2)
    .option('--runs <n>', 'runs, for a median', positiveInt, 3)
    .parse()
    .opts<{ calls: number; workers: number; runs: number }>();
  const databaseUrl = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/tju');
  databaseUrl.pathname = '/tju_bench';
  await migrate(databaseUrl.toString());
  const pool = createPool(databaseUrl.toString(), 4);
  await applyBillingSchema(pool);
  const server = process.env.TEMPORAL_ADDRESS ? undefined : await startDevServerOnFreePorts();
  const address = process.env.TEMPORAL_ADDRESS ?? server!.address;
  const bundlePath = path.join(os.tmpdir(), `tju-bench-rate-${process.pid}.js`);
  fs.writeFileSync(bundlePath, (await bundleWorkflows()).code);
  const connection = await Connection.connect({ address });
  const seconds: number[] = [];
  try {
    for (let run = 1; run <= options.runs; run++) {
      await pool.query('TRUNCATE invoices, subscriptions, tju.ledger, tju.failures RESTART IDENTITY CASCADE');
      await pool.query(
        `INSERT INTO subscriptions (customer, status, monthly_fee) SELECT 'c-' || g, 'active', 10 FROM generate_series(1, $1::int) g`,
        [options.calls],
      );
      const taskQueue = `bench-rate-${process.pid}-${run}`;
      const workers = await startWorkers(options.workers, {
        address,
        taskQueue,
        databaseUrl: databaseUrl.toString(),
        concurrency: 20,
        bundlePath,
        rateLimited: true,
      });
      try {
        const tju = new TjuClient({ client: new Client({ connection }), batches: [rateLimitedBilling], taskQueue });
        const date = `2099-02-${String(run).padStart(2, '0')}`;
        await (await tju.trigger(rateLimitedBilling, { date }, { granularity: 'per-chunk', chunkSize: 100, window: 8 })).result();
        const { rows } = await pool.query<{ seconds: number }>(
          `SELECT extract(epoch FROM max(l.recorded_at) - min(l.recorded_at))::float AS seconds
             FROM tju.ledger l JOIN tju.runs r ON r.id = l.run_id WHERE r.batch = $1 AND r.run_key = $2`,
          [rateLimitedBilling.name, date],
        );
        seconds.push(rows[0].seconds);
        console.log(`run ${run}: ${options.calls} calls in ${rows[0].seconds.toFixed(1)} s`);
      } finally {
        await workers.stop();
      }
    }
  } finally {
    await connection.close();
    await pool.end();
    await server?.stop();
  }
  const median = [...seconds].sort((a, b) => a - b)[Math.floor(seconds.length / 2)];
  const expected = options.calls / RATE_LIMIT;
  console.log(
    `${options.calls} calls at ${RATE_LIMIT}/s on ${options.workers} workers: median ${median.toFixed(1)} s from the first commit to the last, ` +
      `${(median / expected).toFixed(2)}x the ${expected} s the limit allows`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
