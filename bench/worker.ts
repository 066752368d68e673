// One worker process of the benchmark (`--workers N` forks N of these on one task queue). It reports each
// committed unit's scheduling and commit times to the bench process, which records them.
import { issueInvoices } from '../examples/billing/batches/issue-invoices';
import { createPool } from '../src/db/pool';
import { connectWorker } from '../src/temporal/connect';
import { installRuntime } from '../src/temporal/runtime';
import { createUnitWorkers, createWorker, poolSizeFor } from '../src/temporal/worker';
import { rateLimitedBilling } from './rateLimitedBatch';
import { startTracing } from '../src/telemetry/tracing';

export interface BenchWorkerConfig {
  address: string;
  taskQueue: string;
  databaseUrl: string;
  concurrency: number;
  /** The workflow bundle the bench process wrote, so each worker does not bundle again. */
  bundlePath: string;
  /** Also run the rate-limited batch, with its unit's own queue (bench/rateLimit.ts). */
  rateLimited?: boolean;
  /** Trace to this OTLP/HTTP endpoint (`--tracing`); the bundle then holds the workflow interceptors. */
  otlpEndpoint?: string;
}

/** Messages a bench worker sends: ready to poll, then batches of [scheduledAt, finishedAt, ...] pairs. */
export type BenchWorkerMessage = { ready: true } | { units: number[] };

async function main() {
  const config = JSON.parse(process.argv[2]) as BenchWorkerConfig;
  installRuntime();
  if (config.otlpEndpoint) process.env.OTEL_EXPORTER_OTLP_ENDPOINT = config.otlpEndpoint;
  const tracing = config.otlpEndpoint ? await startTracing() : undefined;
  const pool = createPool(config.databaseUrl, poolSizeFor(config.concurrency));
  const connection = await connectWorker({ address: config.address, namespace: 'default' });
  let units: number[] = [];
  const options = {
    connection,
    taskQueue: config.taskQueue,
    batches: config.rateLimited ? [issueInvoices, rateLimitedBilling] : [issueInvoices],
    pool,
    maxConcurrentUnits: config.concurrency,
    workflowBundle: { codePath: config.bundlePath },
    onUnitFinished: (e: { outcome: string; scheduledAt: number; finishedAt: number }) =>
      e.outcome === 'succeeded' && units.push(e.scheduledAt, e.finishedAt),
  };
  const worker = await createWorker(options);
  const unitWorkers = await createUnitWorkers(options);
  const send = (message: BenchWorkerMessage) => process.send!(message);
  const flush = () => {
    if (units.length) send({ units });
    units = [];
  };
  const timer = setInterval(flush, 100);
  process.on('message', (message) => message === 'stop' && [worker, ...unitWorkers].forEach((w) => w.shutdown()));
  const running = Promise.all([worker, ...unitWorkers].map((w) => w.run()));
  send({ ready: true });
  await running;
  clearInterval(timer);
  flush();
  await pool.end();
  await connection.close();
  await tracing?.shutdown();
  process.disconnect();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
