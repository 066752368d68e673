// One worker process of the benchmark (`--workers N` forks N of these on one task queue). It reports each
// committed unit's scheduling and commit times to the bench process, which records them.
import { issueInvoices } from '../examples/billing/batches/issue-invoices';
import { createPool } from '../src/db/pool';
import { connectWorker } from '../src/temporal/connect';
import { installRuntime } from '../src/temporal/runtime';
import { createWorker } from '../src/temporal/worker';

export interface BenchWorkerConfig {
  address: string;
  taskQueue: string;
  databaseUrl: string;
  concurrency: number;
  /** The workflow bundle the bench process wrote, so each worker does not bundle again. */
  bundlePath: string;
}

/** Messages a bench worker sends: ready to poll, then batches of [scheduledAt, finishedAt, ...] pairs. */
export type BenchWorkerMessage = { ready: true } | { units: number[] };

async function main() {
  const config = JSON.parse(process.argv[2]) as BenchWorkerConfig;
  installRuntime();
  const pool = createPool(config.databaseUrl, config.concurrency + 2);
  const connection = await connectWorker({ address: config.address, namespace: 'default' });
  let units: number[] = [];
  const worker = await createWorker({
    connection,
    taskQueue: config.taskQueue,
    batches: [issueInvoices],
    pool,
    maxConcurrentUnits: config.concurrency,
    workflowBundle: { codePath: config.bundlePath },
    onUnitFinished: (e) => e.outcome === 'succeeded' && units.push(e.scheduledAt, e.finishedAt),
  });
  const send = (message: BenchWorkerMessage) => process.send!(message);
  const flush = () => {
    if (units.length) send({ units });
    units = [];
  };
  const timer = setInterval(flush, 100);
  process.on('message', (message) => message === 'stop' && worker.shutdown());
  const running = worker.run();
  send({ ready: true });
  await running;
  clearInterval(timer);
  flush();
  await pool.end();
  await connection.close();
  process.disconnect();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
