// npm run bench -- [--targets N] [--modes raw,bare,floor,per-target,per-chunk,bulk] [--concurrency C] [--workers 1,2] [--repeat R] [--tracing]
// Seeds N subscriptions and bills them six ways on the same data, in one run: `raw` (the unit's statements
// through plain `pg` on C connections, no framework: the physical floor of this unit here), `bare` (the Unit
// through `unit.execute` in a plain loop, no ledger: no idempotency at all), the floor (the same loop with the
// ledger row that makes a unit exactly-once, no Temporal), then tju per-target, per-chunk and bulk on W worker
// processes with C unit slots each, counting each tju mode's history events and Temporal Cloud actions from its
// histories. With --repeat R the modes run R times, interleaved, and the table shows each mode's median.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { PoolClient } from 'pg';
import { Command, InvalidArgumentError } from 'commander';
import { issueInvoices } from '../examples/billing/batches/issue-invoices';
import { migrate } from '../src/db/migrate';
import { createPool } from '../src/db/pool';
import { seedSubscriptions } from '../examples/billing/demo/seed';
import { applyBillingSchema } from '../examples/billing/schema';
import { UserError } from '../src/errors';
import { positiveInt } from '../src/cli/parsers';
import { projectRoot } from '../src/paths';
import { TjuClient } from '../src/temporal/client';
import { startDevServerOnFreePorts, type DevServer } from '../src/temporal/devServer';
import { installRuntime } from '../src/temporal/runtime';
import { bundleWorkflows } from '../src/temporal/worker';
import type { Granularity } from '../src/contracts/types';
import { completionChart } from './chart';
import { cpuMsPerTarget, readCpu, type CpuReading } from './cpu';
import { historyCost, totalActions } from './history';
import { JOBS_PER_SECOND_PER_TRIGGER, sizing } from './sizing';
import { Recorder } from './measure';
import { startWorkers } from './workerProcesses';
import { startOtlpSink, type OtlpSink } from './otlpSink';

const MODES = ['raw', 'bare', 'floor', 'per-target', 'per-chunk', 'bulk'] as const;
/** Modes that run the unit in a plain loop, without Temporal. */
const LOOPS: readonly Mode[] = ['raw', 'bare', 'floor'];
type Mode = (typeof MODES)[number];

const modeList = (value: string) => {
  const modes = value.split(',');
  const unknown = modes.find((m) => !(MODES as readonly string[]).includes(m));
  if (unknown) throw new InvalidArgumentError(`unknown mode "${unknown}" (modes: ${MODES.join(', ')})`);
  return modes as Mode[];
};

const workerCounts = (value: string) => value.split(',').map((n) => positiveInt(n));

const batch = issueInvoices;

/**
 * The Unit in a plain loop on `concurrency` connections, fed by the trigger's own keyset query: `raw` runs its
 * statements on a connection each lane holds, through plain `pg`; `bare` runs it through `unit.execute`
 * (pool, transaction, context) without a ledger; `floor` with the ledger row.
 */
async function loop(
  pool: ReturnType<typeof createPool>,
  targets: number,
  concurrency: number,
  date: string,
  kind: 'raw' | 'bare' | 'floor',
) {
  const recorder = new Recorder(targets);
  const params = { date };
  const buffer: Array<{ key: string; payment_method: string }> = [];
  let cursor: string | null = null;
  let exhausted = false;
  let fetching: Promise<void> | undefined;
  const fetchPage = async () => {
    const rows = await batch.targets(pool, { params, runKey: date, after: cursor, upTo: null, limit: 500 });
    if (rows.length < 500) exhausted = true;
    if (rows.length) cursor = rows[rows.length - 1].key;
    buffer.push(...rows);
  };
  const next = async () => {
    while (!buffer.length && !exhausted) await (fetching ??= fetchPage().finally(() => (fetching = undefined)));
    return buffer.shift();
  };
  const lane = async () => {
    const client = kind === 'raw' ? await pool.connect() : undefined;
    try {
      for (let target = await next(); target; target = await next()) {
        const started = Date.now();
        if (client) {
          await rawUnit(client, target.key, date, target.payment_method);
        } else {
          const idempotencyKey = kind === 'floor' ? { batch: batch.name, runKey: date, targetKey: target.key } : undefined;
          await batch.unit!.execute(pool, batch.job.input(target as never, params), { idempotencyKey });
        }
        recorder.unit(started, Date.now());
      }
    } finally {
      client?.release();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return recorder;
}

/** The billing unit's statements as an app would write them with no framework: lock, guard, write, commit. */
async function rawUnit(client: PoolClient, subscriptionId: string, billingDate: string, paymentMethod: string) {
  await client.query('BEGIN');
  try {
    const { rows } = await client.query<{ monthly_fee: string }>('SELECT monthly_fee FROM subscriptions WHERE id = $1 FOR UPDATE', [
      subscriptionId,
    ]);
    const issued = await client.query('SELECT 1 FROM invoices WHERE subscription_id = $1 AND billing_date = $2', [
      subscriptionId,
      billingDate,
    ]);
    if (!issued.rowCount) {
      await client.query('INSERT INTO invoices (subscription_id, billing_date, amount, payment_method) VALUES ($1, $2, $3, $4)', [
        subscriptionId,
        billingDate,
        rows[0].monthly_fee,
        paymentMethod,
      ]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
}

/**
 * Every mode starts from the same database state: the fresh rows vacuumed (hint bits and visibility map set,
 * statistics current) and a checkpoint behind it. Otherwise autovacuum and the first writes after a
 * checkpoint (full-page images) land at random inside whichever mode runs then, and are most of the spread
 * between runs of one mode.
 */
async function settle(pool: ReturnType<typeof createPool>) {
  await pool.query('VACUUM ANALYZE subscriptions, invoices');
  // CHECKPOINT needs a superuser or pg_checkpoint; without either the runs are only noisier.
  await pool.query('CHECKPOINT').catch(() => undefined);
}

interface BenchOptions {
  targets: number;
  modes: Mode[];
  concurrency: number;
  window?: number;
  partitions?: number;
  chunkSize?: number;
  pageSize?: number;
  chunkConcurrency?: number;
  maxHistoryEvents?: number;
  workers: number[];
  repeat: number;
  out: string;
  /** Each tju mode also runs traced, to an OTLP sink of the bench's own. */
  tracing: boolean;
}

function parseOptions(): BenchOptions {
  return new Command('bench')
    .option('--targets <n>', 'subscriptions to bill per mode', positiveInt, 10_000)
    .option('--modes <list>', `comma-separated: ${MODES.join(',')}`, modeList, [...MODES])
    .option('--concurrency <n>', 'unit slots: loop connections, and units at once in each worker', positiveInt, 20)
    .option('--workers <list>', 'worker processes polling the task queue, e.g. 1,2: each tju mode runs once per count', workerCounts, [1])
    .option('--window <n>', "jobs in flight per trigger run (default: the trigger's own)", positiveInt)
    .option('--partitions <n>', 'split each tju run into this many key ranges', positiveInt)
    .option('--chunk-size <n>', 'targets per chunk job (per-chunk, bulk)', positiveInt)
    .option('--page-size <n>', 'targets the trigger fetches per page (a chunk never spans two)', positiveInt)
    .option('--chunk-concurrency <n>', 'units at once inside one chunk job (per-chunk)', positiveInt)
    .option('--max-history-events <n>', "events after which a trigger continues as new (default: the trigger's own)", positiveInt)
    .option('--repeat <n>', 'run every mode this many times, interleaved; the table shows medians', positiveInt, 1)
    .option('--tracing', 'run each tju mode also with OpenTelemetry tracing on (to a local OTLP sink), interleaved', false)
    .option('--out <dir>', 'where to write the JSON and SVG', path.join(projectRoot, 'bench', 'results'))
    .exitOverride()
    .configureOutput({ outputError: (m, write) => write(`bench: ${m.replace(/^error: /, '')}`) })
    .parse()
    .opts<BenchOptions>();
}

type Result = Record<string, unknown> & { mode: string; targetsPerSec: number };
type Pool = ReturnType<typeof createPool>;

/** What every run of a mode shares: the database, the server, the workflow bundle and the options. */
interface Bench {
  options: BenchOptions;
  pool: Pool;
  databaseUrl: string;
  address?: string;
  serverPid?: number;
  bundlePath?: string;
  /** With --tracing: the bundle with the workflow interceptors, and where traced workers export. */
  traced?: { bundlePath: string; sink: OtlpSink };
  tuning: Record<string, number | undefined>;
}

async function main() {
  const options = parseOptions();
  installRuntime();
  const databaseUrl = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/tju');
  databaseUrl.pathname = '/tju_bench';
  await migrate(databaseUrl.toString());
  const pool = createPool(databaseUrl.toString(), options.concurrency + 2);
  await applyBillingSchema(pool);

  const usesTemporal = options.modes.some((m) => !LOOPS.includes(m));
  let server: DevServer | undefined;
  let address = process.env.TEMPORAL_ADDRESS;
  if (!address && usesTemporal) {
    server = await startDevServerOnFreePorts();
    address = server.address;
  }
  // A server of one's own (TEMPORAL_ADDRESS, e.g. one on PostgreSQL persistence) is measured by its pid.
  const serverPid = server?.process.pid ?? (process.env.TJU_BENCH_SERVER_PID ? Number(process.env.TJU_BENCH_SERVER_PID) : undefined);
  const { window, partitions, chunkSize, chunkConcurrency, pageSize, maxHistoryEvents } = options;
  const tuning = { window, partitions, chunkSize, chunkConcurrency, pageSize, maxHistoryEvents };
  // Bundled once; each worker process loads the file.
  const bundlePath = usesTemporal ? path.join(os.tmpdir(), `tju-bench-${process.pid}-workflows.js`) : undefined;
  if (bundlePath) fs.writeFileSync(bundlePath, (await bundleWorkflows({ tracing: false })).code);
  const traced = options.tracing && usesTemporal ? await tracedBundle() : undefined;
  const bench: Bench = { options, pool, databaseUrl: databaseUrl.toString(), address, serverPid, bundlePath, traced, tuning };
  try {
    const { results, lines } = await runAll(bench);
    report(bench, results, lines);
  } finally {
    await pool.end();
    await server?.stop();
    if (bundlePath) fs.rmSync(bundlePath, { force: true });
    if (traced) {
      fs.rmSync(traced.bundlePath, { force: true });
      await traced.sink.close();
    }
  }
}

/** The traced runs' bundle (with Temporal's workflow interceptors) and their OTLP sink. */
async function tracedBundle(): Promise<NonNullable<Bench['traced']>> {
  const bundlePath = path.join(os.tmpdir(), `tju-bench-${process.pid}-workflows-traced.js`);
  fs.writeFileSync(bundlePath, (await bundleWorkflows({ tracing: true })).code);
  return { bundlePath, sink: await startOtlpSink() };
}

/** Each tju mode once per worker count, the loops once; the whole sequence `repeat` times, interleaved. */
async function runAll(bench: Bench) {
  const { options, pool } = bench;
  // The first mode would otherwise pay for the process's start: JIT, new connections, cold caches.
  console.error('warming up...');
  await seedSubscriptions(pool, Math.min(options.targets, 2000), { inactiveEvery: 0, brokenEvery: 0 });
  await loop(pool, Math.min(options.targets, 2000), options.concurrency, '2029-12-31', 'floor');
  const once = options.modes.flatMap((mode) =>
    LOOPS.includes(mode)
      ? [{ mode, workers: 0, traced: false }]
      : options.workers.flatMap((workers) => [false, ...(options.tracing ? [true] : [])].map((traced) => ({ mode, workers, traced }))),
  );
  const plan = Array.from({ length: options.repeat }, () => once).flat();
  const results: Result[] = [];
  const lines: Array<{ label: string; points: Array<{ t: number; done: number }> }> = [];
  for (const [i, { mode, workers, traced }] of plan.entries()) {
    await seedSubscriptions(pool, options.targets, { inactiveEvery: 0, brokenEvery: 0 });
    await settle(pool);
    const date = new Date(Date.UTC(2030, 0, 1 + i)).toISOString().slice(0, 10);
    const label = `${workers > 1 ? `${mode} x${workers}` : mode}${traced ? ' traced' : ''}`;
    console.error(`${label}: billing ${options.targets} subscriptions...`);
    const { result, recorder } = await runOnce(bench, { mode, workers, date, label, i, traced });
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM invoices');
    if (rows[0].n !== options.targets) throw new Error(`${mode}: ${rows[0].n} invoices for ${options.targets} targets`);
    results.push(result);
    lines.push({ label: options.repeat > 1 ? `${label} (${Math.floor(i / once.length) + 1})` : label, points: recorder.series });
  }
  return { results, lines };
}

/** One run of a mode: its worker count, run date, label, place in the plan, and whether it is traced. */
interface TjuRun {
  mode: Mode;
  workers: number;
  date: string;
  label: string;
  i: number;
  traced?: boolean;
}

/** What a mode's run leaves to measure; a tju run reads the CPU around its trigger alone, not its workers' start. */
interface Measured {
  recorder: Recorder;
  extra: Record<string, unknown>;
  cpuBefore?: CpuReading;
  cpuAfter?: CpuReading;
  finished?: ReturnType<Recorder['finish']>;
}

/** One run of one mode, measured: its rate and latencies, its CPU, and the ledger it grew. */
async function runOnce(bench: Bench, run: TjuRun) {
  const { options, pool, serverPid } = bench;
  const ledgerBytesBefore = await ledgerBytes(pool);
  const cpuBefore = readCpu(serverPid);
  const measured: Measured = LOOPS.includes(run.mode)
    ? { recorder: await loop(pool, options.targets, options.concurrency, run.date, run.mode as 'raw' | 'bare' | 'floor'), extra: {} }
    : await runTju(bench, run);
  const cpuAfter = measured.cpuAfter ?? readCpu(serverPid);
  const finished = measured.finished ?? measured.recorder.finish();
  const cpuMs = cpuMsPerTarget(measured.cpuBefore ?? cpuBefore, cpuAfter, options.targets);
  // The ledger's table and indexes grow by this much per target (one row per target and unit).
  const ledgerBytesPerTarget =
    run.mode === 'bare' || run.mode === 'raw' ? 0 : Math.round(((await ledgerBytes(pool)) - ledgerBytesBefore) / options.targets);
  // The workers' memory over the run, at a tenth of its samples: enough to see it flat or growing.
  const rssOverRunMb = everyTenth(measured.recorder.series);
  const result = { mode: run.label, ...finished, ...measured.extra, ledgerBytesPerTarget, cpuMsPerTarget: cpuMs, rssOverRunMb } as Result;
  return { result, recorder: measured.recorder };
}

/** A tju mode: its workers, one trigger run, then what its histories cost. */
async function runTju(bench: Bench, run: TjuRun) {
  const { options, address, serverPid, tuning } = bench;
  const taskQueue = `bench-${process.pid}-${run.mode}-${run.workers}-${run.i}`; // one per run: its histories are counted by queue
  const workers = await startWorkers(run.workers, {
    address: address!,
    taskQueue,
    databaseUrl: bench.databaseUrl,
    concurrency: options.concurrency,
    ...(run.traced
      ? { bundlePath: bench.traced!.bundlePath, otlpEndpoint: bench.traced!.sink.endpoint }
      : { bundlePath: bench.bundlePath! }),
  });
  const client = new Client({ connection: await Connection.connect({ address: address! }) });
  const tju = new TjuClient({ client, batches: [batch], taskQueue });
  // Worker start-up (connecting, loading the bundle) is not per-target work.
  const cpuBefore = readCpu(serverPid, workers.pids);
  const recorder = new Recorder(options.targets, workers.pids);
  workers.onUnits((scheduledAt, finishedAt) => recorder.unit(scheduledAt, finishedAt));
  const triggered = await tju.trigger(batch.name, { date: run.date }, { ...tuning, granularity: run.mode as Granularity });
  const summary = await triggered.result();
  await workers.drained();
  const cpuAfter = readCpu(serverPid, workers.pids);
  const finished = recorder.finish();
  await workers.stop();
  console.error(`${run.label}: counting events and actions...`);
  const cost = await historyCost(client, taskQueue);
  await client.connection.close();
  const extra = {
    summary,
    workers: run.workers,
    triggerRuns: cost.executions.triggerWorkflow ?? 0,
    executions: cost.executions,
    historiesFetched: cost.fetched,
    // Three places: a bulk run makes a few events per thousand targets.
    eventsPerTarget: round(cost.events / options.targets, 3),
    historyBytesPerTarget: round(cost.historyBytes / options.targets, 0),
    actionsPer1000: round((totalActions(cost.actions) * 1000) / options.targets, 0),
    actionsPer1000ByKind: Object.fromEntries(
      Object.entries(cost.actions).map(([kind, n]) => [kind, round((n * 1000) / options.targets, 1)]),
    ),
  };
  return { recorder, extra, cpuBefore, cpuAfter, finished };
}

/** One row per mode: its median run (by targets/s), with every run's rate; ratios between medians. */
function mediansOf(results: Result[]): Result[] {
  const medians: Result[] = [...new Set(results.map((r) => r.mode))].map((mode) => {
    const runs = results.filter((r) => r.mode === mode).sort((a, b) => a.targetsPerSec - b.targetsPerSec);
    const median = runs[Math.floor((runs.length - 1) / 2)];
    return { ...median, runs: runs.length, rates: runs.map((r) => r.targetsPerSec).join(', ') };
  });
  const rateOf = (mode: string) => medians.find((r) => r.mode === mode)?.targetsPerSec;
  const ratio = (rate: number, base: number | undefined) => (base ? Number((rate / base).toFixed(3)) : null);
  for (const r of medians) {
    r.ratioToRaw = ratio(r.targetsPerSec, rateOf('raw'));
    r.ratioToBare = ratio(r.targetsPerSec, rateOf('bare'));
    r.ratioToFloor = ratio(r.targetsPerSec, rateOf('floor'));
  }
  return medians;
}

/** Prints the table and the sizing, and writes the JSON and the chart. */
function report(bench: Bench, results: Result[], lines: Array<{ label: string; points: Array<{ t: number; done: number }> }>) {
  const { options } = bench;
  const medians = mediansOf(results);
  if (options.repeat > 1) console.log(`Medians of ${options.repeat} interleaved runs per mode (every run's targets/s under "runs"):`);
  printTable(medians);
  const sized = sizing(medians as never);
  console.log(`\nTo finish in one hour, scaled from this run (partitions: at most ${JOBS_PER_SECOND_PER_TRIGGER} jobs/s per trigger):`);
  printMarkdown(SIZING_COLUMNS, sized);

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  fs.mkdirSync(options.out, { recursive: true });
  const base = path.join(options.out, `bench-${options.targets}-${stamp}`);
  const json = {
    when: new Date().toISOString(),
    command: ['npm run bench --', ...process.argv.slice(2)].join(' '),
    machine: { cpus: os.cpus().length, memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    targets: options.targets,
    concurrency: options.concurrency,
    workers: options.workers,
    overrides: bench.tuning,
    repeat: options.repeat,
    medians: medians.map(({ series, ...r }) => r),
    results: results.map(({ series, ...r }) => r),
    sizing: sized,
  };
  fs.writeFileSync(`${base}.json`, JSON.stringify(json, null, 2) + '\n');
  fs.writeFileSync(`${base}.svg`, completionChart(`${options.targets} targets: completed over time`, lines));
  console.log(`\nwrote ${path.relative(process.cwd(), base)}.json and .svg`);
}

const SIZING_COLUMNS: Array<[string, string]> = [
  ['mode', 'mode'],
  ['targets', 'targets'],
  ['historyEvents', 'history events'],
  ['historyGb', 'history GB'],
  ['actions', 'Cloud actions'],
  ['ledgerRows', 'ledger rows'],
  ['ledgerGb', 'ledger GB'],
  ['targetsPerSecond', 'targets/s'],
  ['workerCores', 'worker cores'],
  ['serverCores', 'Temporal cores'],
  ['postgresCores', 'PG cores'],
  ['partitions', 'partitions'],
];

const everyTenth = (series: Array<{ t: number; rssMb: number }>) =>
  series.filter((_, i) => i % Math.max(1, Math.floor(series.length / 10)) === 0).map(({ t, rssMb }) => [Math.round(t), Math.round(rssMb)]);

async function ledgerBytes(pool: Pool): Promise<number> {
  // Without a vacuum the visibility map and free-space map lag behind; the heap and index pages do not.
  const { rows } = await pool.query<{ n: string }>(`SELECT pg_total_relation_size('tju.ledger') AS n`);
  return Number(rows[0].n);
}

function printTable(results: Array<Record<string, unknown>>) {
  const cpu = (r: Record<string, unknown>) => {
    const c = r.cpuMsPerTarget as Record<string, number | null>;
    return [c.worker, c.server, c.postgres].map((v) => (v === null ? '-' : v.toFixed(1))).join(' + ');
  };
  printMarkdown(
    [
      ['mode', 'mode'],
      ['targetsPerSec', 'targets/s'],
      ['rates', 'runs'],
      ['ratioToRaw', 'x raw'],
      ['ratioToBare', 'x bare'],
      ['ratioToFloor', 'x floor'],
      ['seconds', 'seconds'],
      ['p50Ms', 'p50 ms'],
      ['p99Ms', 'p99 ms'],
      ['firstUnitMs', 'first unit ms'],
      ['longestPauseMs', 'longest pause ms'],
      ['eventsPerTarget', 'events/target'],
      ['historyBytesPerTarget', 'history B/target'],
      ['actionsPer1000', 'actions/1k targets'],
      ['ledgerBytesPerTarget', 'ledger B/target'],
      ['peakRssMb', 'peak RSS MB'],
      ['cpu', 'CPU ms/target worker+server+pg'],
    ],
    results.map((r) => ({ ...r, cpu: cpu(r) })),
  );
}

function printMarkdown(columns: Array<[string, string]>, rows: Array<Record<string, unknown>>) {
  const cells = rows.map((r) => columns.map(([key]) => String(r[key] ?? '-')));
  const widths = columns.map(([, title], i) => Math.max(title.length, ...cells.map((row) => row[i].length)));
  const line = (row: string[]) => '| ' + row.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  console.log(line(columns.map(([, title]) => title)));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const row of cells) console.log(line(row));
}

main().then(
  () => process.exit(0),
  (err) => {
    if (err?.code?.startsWith?.('commander.')) process.exit(err.exitCode === 0 ? 0 : 2);
    console.error(err instanceof UserError ? `bench: ${err.message}` : err);
    process.exit(err instanceof UserError ? 2 : 1);
  },
);

const round = (n: number, digits: number) => Number(n.toFixed(digits));
