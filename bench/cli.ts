// npm run bench:cli -- [--runs 10]
// How long tju's commands take before they do anything: each command run `runs` times, interleaved with
// `node -e 0` (the floor of any Node command on this machine), and the medians compared. `tju status` runs
// against a dev server and a migrated database, so it pays for connecting to both, as it does in use.
// Wall-clock figures, so they belong here, not in the test suite.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { applyBillingSchema } from '../examples/billing/schema';
import { positiveInt } from '../src/cli/parsers';
import { migrate } from '../src/db/migrate';
import { recordRun } from '../src/db/runHistory';
import { createPool } from '../src/db/pool';
import { startDevServerOnFreePorts } from '../src/temporal/devServer';

const root = path.join(__dirname, '..', '..');
const tju = path.join(root, 'bin', 'tju.js');
const billingConfig = path.join(root, 'examples', 'billing', 'tju.config.ts');

interface Case {
  name: string;
  args: string[];
  cwd?: string;
  /** Exit codes that mean it did its work (status of a run key that has no run says so, with 2). */
  codes?: number[];
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Wall-clock milliseconds of one run; throws when the command fails. */
function time({ args, cwd, codes = [0] }: Case, env: NodeJS.ProcessEnv): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (!codes.includes(result.status ?? -1)) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return ms;
}

async function main() {
  const { runs } = new Command('bench:cli')
    .option('--runs <n>', 'runs of each command, for a median', positiveInt, 10)
    .parse()
    .opts<{ runs: number }>();
  const databaseUrl = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/tju');
  databaseUrl.pathname = '/tju_bench_cli';
  await migrate(databaseUrl.toString());
  const pool = createPool(databaseUrl.toString(), 2);
  await applyBillingSchema(pool);
  // A finished run of 2026-10-01, as its trigger records it: what `tju status` answers without Temporal.
  const finished = { batch: 'billing.issue-invoices', runKey: '2026-10-01', workflowId: 'billing.issue-invoices/2026-10-01' };
  const counts = { total: 1000, succeeded: 995, failed: 5, skipped: 0 };
  const record = { ...finished, executionId: 'bench-execution', kind: 'run' as const, params: { date: '2026-10-01' } };
  await recordRun(pool, { ...record, state: 'completed', startedAt: new Date().toISOString(), finished: true, counts });
  await pool.end();
  const server = process.env.TEMPORAL_ADDRESS ? undefined : await startDevServerOnFreePorts();
  const env = {
    ...process.env,
    DATABASE_URL: databaseUrl.toString(),
    TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS ?? server!.address,
    TJU_LOG_LEVEL: 'error',
  };
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'tju-bench-cli-')); // no config above it
  const cases: Case[] = [
    { name: 'node -e 0', args: ['-e', '0'] },
    { name: 'tju --help (no app)', args: [tju, '--help'], cwd: outside },
    { name: 'tju --help (the billing app)', args: [tju, '--config', billingConfig, '--help'] },
    // A finished run key: answered from the run history, without loading or reaching Temporal.
    {
      name: 'tju status, finished run',
      args: [tju, '--config', billingConfig, 'status', 'billing.issue-invoices', '--date', '2026-10-01'],
    },
    // A run key with no run: it connects to Temporal and PostgreSQL and asks both, as for a running run.
    {
      name: 'tju status, no run (Temporal)',
      args: [tju, '--config', billingConfig, 'status', 'billing.issue-invoices', '--date', '2026-11-01'],
      codes: [2],
    },
  ];
  const times = new Map(cases.map((c) => [c.name, [] as number[]]));
  try {
    for (const c of cases) time(c, env); // warm the file cache and jiti's, as a second command would find them
    for (let run = 0; run < runs; run++) for (const c of cases) times.get(c.name)!.push(time(c, env));
  } finally {
    await server?.stop();
    fs.rmSync(outside, { recursive: true, force: true });
  }
  const floor = median(times.get('node -e 0')!);
  console.log(`median of ${runs} interleaved runs, wall clock`);
  for (const c of cases) {
    const ms = median(times.get(c.name)!);
    console.log(`${c.name.padEnd(32)} ${ms.toFixed(0).padStart(5)} ms   over node -e 0: ${(ms - floor).toFixed(0).padStart(5)} ms`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
