// npm run bench:dashboard -- [--targets 100000] [--failures 100000] [--history 5000]
// The dashboard while a big run is going: how long the runs page and the run page take to answer (median,
// p95, max of requests made back to back for the whole run), and the failure groups query at `failures`
// open failures, with its plan. Wall-clock figures, so they belong here, not in the test suite.
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { Command } from 'commander';
import { issueInvoices } from '../examples/billing/batches/issue-invoices';
import { applyBillingSchema } from '../examples/billing/schema';
import { positiveInt } from '../src/cli/parsers';
import { serveDashboard } from '../src/dashboard';
import { failureGroups } from '../src/db/failureGroups';
import { reading } from '../src/db/transaction';
import { migrate } from '../src/db/migrate';
import { createPool } from '../src/db/pool';
import type { Db } from '../src/db/types';
import { TjuClient } from '../src/temporal/client';
import { startDevServerOnFreePorts } from '../src/temporal/devServer';
import { bundleWorkflows } from '../src/temporal/worker';
import { startWorkers } from './workerProcesses';

const stats = (ms: number[]) => {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { requests: ms.length, median: at(0.5), p95: at(0.95), max: sorted[sorted.length - 1] };
};

async function timed(url: string): Promise<number> {
  const start = performance.now();
  const res = await fetch(url);
  await res.text();
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return performance.now() - start;
}

interface Options {
  targets: number;
  failures: number;
  history: number;
  workers: number;
}

type Pool = ReturnType<typeof createPool>;

/** The billing run's subscriptions, thousands of earlier runs, and a run with `failures` open failures (its id). */
async function seed(pool: Pool, options: Options): Promise<string> {
  await pool.query(
    'TRUNCATE invoices, subscriptions, tju.ledger, tju.failures, tju.run_history, tju.run_actions, tju.runs RESTART IDENTITY CASCADE',
  );
  await pool.query(
    `INSERT INTO subscriptions (customer, status, monthly_fee) SELECT 'c-' || g, 'active', 10 FROM generate_series(1, $1::int) g`,
    [options.targets],
  );
  // Thousands of earlier runs, finished, so the runs page pages through a history of realistic size.
  await pool.query(
    `WITH r AS (INSERT INTO tju.runs (batch, run_key) SELECT 'bench.history-' || (g % 7), 'k-' || g FROM generate_series(1, $1::int) g RETURNING id, batch, run_key)
     INSERT INTO tju.run_history (workflow_id, execution_id, run_id, kind, state, started_at, finished_at, counts)
     SELECT batch || '/' || run_key, md5(id::text), id, 'run', 'completed', now() - interval '1 minute' * id, now() - interval '1 minute' * id + interval '30 seconds',
            '{"total": 1000, "succeeded": 990, "failed": 10, "skipped": 0}' FROM r`,
    [options.history],
  );
  // A run with `failures` open failures in four causes, and a tenth as many resolved since (a ledger row each).
  const { rows: failed } = await pool.query<{ id: string }>(
    `INSERT INTO tju.runs (batch, run_key) VALUES ('bench.failing', 'f') RETURNING id::text`,
  );
  await pool.query(
    `INSERT INTO tju.failures (run_id, target_key, unit, error, error_type, attempts, target)
     SELECT $1, lpad(g::text, 8, '0'), 'bench.unit',
            (ARRAY['card ' || g || ' declined', 'gateway timeout after ' || (g % 900) || ' ms', 'customer ''c-' || g || ''' not found', 'rate limited'])[g % 4 + 1],
            (ARRAY['NonRetryableError', 'Error', 'Error', 'Error'])[g % 4 + 1], 3, jsonb_build_object('key', g::text, 'plan', 'basic')
       FROM generate_series(1, $2::int) g`,
    [failed[0].id, Math.round(options.failures * 1.1)],
  );
  await pool.query(
    `INSERT INTO tju.ledger (run_id, target_key, unit) SELECT $1, lpad(g::text, 8, '0'), 'bench.unit' FROM generate_series(1, $2::int, 11) g`,
    [failed[0].id, Math.round(options.failures * 1.1)],
  );
  // Other runs' failures, as a table that keeps 90 days of runs holds them: the run's are a part of it.
  await pool.query(
    `INSERT INTO tju.failures (run_id, target_key, unit, error, error_type, attempts, target)
     SELECT (g % $1::int) + 1, 'k' || g, 'bench.unit', 'card ' || g || ' declined', 'Error', 3, '{}' FROM generate_series(1, $2::int) g`,
    [options.history, options.history * 80],
  );
  await pool.query('VACUUM ANALYZE tju.failures');
  await pool.query('VACUUM ANALYZE tju.ledger');
  await pool.query('ANALYZE tju.run_history');
  return failed[0].id;
}

/** The runs page, the run page and its ledger view, read back to back until the run ends. */
async function readWhileRunning(pool: Pool, base: string, tju: TjuClient) {
  const date = '2099-03-01';
  const run = await tju.trigger(issueInvoices, { date }, { granularity: 'bulk' });
  let finished = false;
  const ended = run.result().finally(() => (finished = true));
  let runId: string | undefined;
  while (!runId) {
    const { rows } = await pool.query<{ id: string }>(`SELECT id::text FROM tju.runs WHERE batch = $1 AND run_key = $2`, [
      issueInvoices.name,
      date,
    ]);
    runId = rows[0]?.id;
    if (!runId) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const runsPage: number[] = [];
  const runPage: number[] = [];
  const ledgerView: number[] = [];
  const done: number[] = [];
  while (!finished) {
    runsPage.push(await timed(`${base}/`));
    runPage.push(await timed(`${base}/runs/${runId}`));
    ledgerView.push(await timed(`${base}/api/runs/${runId}/ledger`));
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM tju.ledger WHERE run_id = $1', [runId]);
    done.push(rows[0].n);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    run: await ended,
    ledgerRowsSeenWhileReading: { first: done[0], last: done[done.length - 1] },
    runsPageMs: stats(runsPage),
    runPageMs: stats(runPage),
    runLedgerViewMs: stats(ledgerView),
  };
}

/** The failures page and the groups query behind it, with the query's plan. */
async function readFailures(pool: Pool, base: string, failedId: string) {
  // As autovacuum would have by now: the ledger grew by the run.
  await pool.query('ANALYZE tju.ledger');
  const failuresPage = [];
  for (let i = 0; i < 5; i++) failuresPage.push(await timed(`${base}/runs/${failedId}/failures`));
  const groupsMs = [];
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    await reading(pool, (tx) => failureGroups(tx, failedId));
    groupsMs.push(performance.now() - start);
  }
  // The plan of the groups query, as the page runs it.
  let plan = '';
  const explaining: Db = {
    query: async (text: string, values?: unknown[]) => {
      const { rows } = await reading(pool, (tx) =>
        tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${text}`, values),
      );
      plan = rows.map((row) => row['QUERY PLAN']).join('\n');
      return { rows: [] };
    },
  } as unknown as Db;
  await failureGroups(explaining, failedId);
  return { failuresPageMs: stats(failuresPage), failureGroupsQueryMs: stats(groupsMs), plan };
}

async function main() {
  const options = new Command('bench:dashboard')
    .option('--targets <n>', 'targets of the run going on while the pages are read', positiveInt, 100_000)
    .option('--failures <n>', 'open failures of the run whose groups are read', positiveInt, 100_000)
    .option('--history <n>', 'earlier runs in the run history (80 failure records each)', positiveInt, 5000)
    .option('--workers <n>', 'worker processes', positiveInt, 2)
    .parse()
    .opts<Options>();
  const databaseUrl = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/tju');
  databaseUrl.pathname = '/tju_bench_dashboard';
  await migrate(databaseUrl.toString());
  const pool = createPool(databaseUrl.toString(), 10);
  await applyBillingSchema(pool);
  const failedId = await seed(pool, options);

  const server = process.env.TEMPORAL_ADDRESS ? undefined : await startDevServerOnFreePorts();
  const address = process.env.TEMPORAL_ADDRESS ?? server!.address;
  const bundlePath = path.join(os.tmpdir(), `tju-bench-dashboard-${process.pid}.js`);
  fs.writeFileSync(bundlePath, (await bundleWorkflows()).code);
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const taskQueue = `bench-dashboard-${process.pid}`;
  const workers = await startWorkers(options.workers, {
    address,
    taskQueue,
    databaseUrl: databaseUrl.toString(),
    concurrency: 20,
    bundlePath,
  });
  const tju = new TjuClient({ client, batches: [issueInvoices], taskQueue, db: pool });
  const dashboard = await serveDashboard({ pool, tju, client, batches: [issueInvoices], taskQueue, port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(dashboard.address() as AddressInfo).port}`;
  try {
    const running = await readWhileRunning(pool, base, tju);
    const { plan, ...failures } = await readFailures(pool, base, failedId);
    const { run, ...pages } = running;
    const result = { targets: options.targets, run, historyRuns: options.history, ...pages, openFailures: options.failures, ...failures };
    console.log(JSON.stringify(result, null, 2));
    console.log(`\nfailure groups query at ${options.failures} open failures:\n${plan}`);
  } finally {
    dashboard.closeAllConnections();
    dashboard.close();
    await workers.stop();
    await connection.close();
    await pool.end();
    await server?.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
