// What a new user meets from the shell: every answer is quick and plain, a mistake is one line and exit 2.
import { retryWorkflowId } from '../src/contracts/ids';
import http from 'node:http';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { issueInvoices } from '../examples/billing/batches/issue-invoices';
import { listFailures } from '../src/db/ledger';
import { ensureTemporalCli } from '../src/temporal/devServer';
import { timingOutBilling } from './fixtures/batches';
import { insertNoFeeSubscriptions, insertSubscription, insertSubscriptions } from './helpers/billing';
import { TEST_CONFIG, tju, type CliResult } from './helpers/cli';
import { startWorkerProcess } from './helpers/workerProcess';
import { adminUrl } from './helpers/databases';
import { startHarness, type Harness } from './helpers/harness';

const BIN = path.join(__dirname, '..', 'bin', 'tju.js');

let h: Harness;
let env: Record<string, string>;
beforeAll(async () => {
  h = await startHarness([issueInvoices, timingOutBilling]);
  env = h.env;
});
afterAll(() => h.close());

function expectOneLineError(result: CliResult, pattern: RegExp) {
  expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(pattern)]);
  expect(result.code).toBe(2);
}

describe('no worker polling the task queue', () => {
  const idle = () => ({ ...env, TJU_TASK_QUEUE: `nobody-polls-${Date.now().toString(36)}` });

  it('trigger starts the run and says that it waits for a worker', async () => {
    const queue = idle();
    const result = await tju(['trigger', 'billing.issue-invoices', '--date', '2030-01-01'], queue);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('started billing.issue-invoices/2030-01-01');
    expect(result.stderr).toContain(`no worker is polling task queue '${queue.TJU_TASK_QUEUE}': start \`npx tju worker\``);

    // status answers from the workflow's state at once, instead of waiting on a query no worker answers.
    const status = await tju(['status', 'billing.issue-invoices', '--date', '2030-01-01'], queue);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/billing\.issue-invoices\/2030-01-01: RUNNING\n\s+no worker is polling task queue/);
    const runs = await tju(['runs', 'billing.issue-invoices'], queue);
    expect(runs.stdout).toMatch(/2030-01-01\s+RUNNING.*no worker is polling/);
    await h.client.workflow.getHandle('billing.issue-invoices/2030-01-01').terminate('test done');
  });

  it('--wait says within seconds that the worker that polled is gone, once, not at every tick', async () => {
    const queue = idle();
    const worker = await startWorkerProcess(h, { TJU_TASK_QUEUE: queue.TJU_TASK_QUEUE });
    await worker.kill('SIGKILL');
    const cli = spawn(
      process.execPath,
      [BIN, '--config', TEST_CONFIG, 'trigger', 'billing.issue-invoices', '--date', '2030-01-02', '--wait'],
      {
        env: { ...process.env, ...queue, TJU_LOG_LEVEL: 'debug' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    cli.stderr.on('data', (chunk) => (stderr += chunk));
    try {
      // Its next task waits: the run says why (no poller, or the last poll long ago), and says it once, however
      // often it looks again (each look is a debug line).
      const said = /its next task has waited \d+ s/;
      const looksSinceSaid = () => {
        const at = stderr.search(said);
        return at < 0 ? 0 : stderr.slice(at).split('looked at what holds the run up').length - 1;
      };
      for (const deadline = Date.now() + 60_000; Date.now() < deadline && looksSinceSaid() < 3;) {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(looksSinceSaid()).toBeGreaterThanOrEqual(3);
      const told = stderr
        .trim()
        .split('\n')
        .filter((line) => said.test(line));
      expect(told).toHaveLength(1);
      expect(told[0]).toContain(`task queue '${queue.TJU_TASK_QUEUE}'`);
    } finally {
      cli.kill('SIGTERM');
      await h.client.workflow
        .getHandle('billing.issue-invoices/2030-01-02')
        .terminate('test done')
        .catch(() => undefined);
    }
  });
});

it("tju health passes only while this host's worker polls the app's queues, and names the queue otherwise", async () => {
  const queue = `health-${Date.now().toString(36)}`;
  const queueEnv = { ...env, TJU_TASK_QUEUE: queue };
  const before = await tju(['health'], queueEnv);
  expect(before.code).toBe(1);
  expect(before.stderr).toContain(`no worker on ${os.hostname()} polls workflow task queue '${queue}'`);
  expect(before.stderr.trim().split('\n')).toHaveLength(1);

  const worker = await startWorkerProcess(h, { TJU_TASK_QUEUE: queue });
  try {
    // Temporal lists a poller once its first long poll arrives: a container healthcheck retries like this.
    let healthy = await tju(['health'], queueEnv);
    for (let tries = 0; healthy.code !== 0 && tries < 20; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      healthy = await tju(['health'], queueEnv);
    }
    expect(healthy).toMatchObject({ code: 0, stdout: expect.stringContaining(`healthy: a worker on ${os.hostname()} polls ${queue}`) });
    // Another host's worker does not make this one healthy, and a poll older than the limit does not count.
    const elsewhere = await tju(['health', '--host', 'elsewhere'], queueEnv);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toContain(`no worker on elsewhere polls workflow task queue '${queue}'`);
  } finally {
    await worker.kill('SIGKILL');
  }
  // Temporal still lists the killed worker for minutes; its last poll ages past the limit instead.
  let stale = await tju(['health', '--max-poll-age', '1s'], queueEnv);
  for (let tries = 0; stale.code === 0 && tries < 20; tries++) stale = await tju(['health', '--max-poll-age', '1s'], queueEnv);
  expect(stale.code).toBe(1);
  expect(stale.stderr).toMatch(new RegExp(`the worker on ${os.hostname()} last polled workflow task queue '${queue}' \\d+ s ago`));
});

describe('one line and exit 2', () => {
  it('names a namespace the server does not have', async () => {
    const result = await tju(['status', 'billing.issue-invoices', '--date', '2026-11-01'], {
      ...env,
      TEMPORAL_NAMESPACE: 'no-such-namespace',
    });
    expectOneLineError(result, /^tju: Temporal at .* has no namespace "no-such-namespace"/);
  });

  it('says an address that answers HTTP is not a Temporal server it can reach', async () => {
    const server = http.createServer((_, res) => res.writeHead(404).end('not found'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const address = `127.0.0.1:${(server.address() as { port: number }).port}`;
      const result = await tju(['trigger', 'billing.issue-invoices', '--date', '2026-11-01'], { ...env, TEMPORAL_ADDRESS: address });
      expectOneLineError(result, new RegExp(`^tju: cannot reach Temporal at ${address}`));
    } finally {
      server.close();
    }
  });

  it('refuses to retry or clear a run that never happened, and starts nothing', async () => {
    const args = ['billing.issue-invoices', '--date', '1999-01-01'];
    expectOneLineError(await tju(['retry', ...args], env), /no run of billing\.issue-invoices for 1999-01-01.*nothing to retry/);
    expectOneLineError(await tju(['clear', ...args], env), /no run of billing\.issue-invoices for 1999-01-01: nothing to clear/);
    const started = await h.client.workflow.count(`WorkflowId = '${retryWorkflowId('billing.issue-invoices', '1999-01-01')}'`);
    expect(started.count).toBe(0);
  });

  it('checks the database status reads, and says to migrate when it is missing', async () => {
    const nowhere = await tju(['status', 'billing.issue-invoices', '--date', '2026-11-01'], {
      ...env,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/tju',
    });
    expectOneLineError(nowhere, /^tju: cannot reach PostgreSQL at 127\.0\.0\.1:1\/tju/);
    const missing = await tju(['status', 'billing.issue-invoices', '--date', '2026-11-01'], {
      ...env,
      DATABASE_URL: adminUrl(`tju_never_created_${process.pid}`),
    });
    expectOneLineError(missing, /^tju: database "tju_never_created_\d+" does not exist at .*: run `npx tju migrate` to create it/);
  });
});

it('status of a run key shows its first run, then the re-runs, and links to each execution', async () => {
  const date = '2026-11-02';
  await insertSubscriptions(h.pool, 5);
  await insertNoFeeSubscriptions(h.pool, 1);
  const first = await h.tju.trigger('billing.issue-invoices', { date });
  await first.result();
  await (await h.tju.trigger('billing.issue-invoices', { date })).result(); // the failing one again
  expect(first.uiUrl).toBeUndefined(); // the harness's client has no UI address; the CLI's does

  const status = await tju(['status', 'billing.issue-invoices', '--date', date], env);
  expect(status.code).toBe(0);
  const lines = status.stdout.trim().split('\n');
  // Every start has ended: answered from the run history, and Temporal, asked, says the same.
  expect(lines[0]).toBe(`billing.issue-invoices/${date}: COMPLETED (from run history)`);
  const live = await tju(['status', 'billing.issue-invoices', '--date', date, '--live'], env);
  expect(live.stdout).toBe(status.stdout.replace(' (from run history)', ''));
  expect(lines[1]).toMatch(/total \d+, succeeded \d+, failed 1, skipped 0/);
  expect(lines[1]).not.toMatch(/total 1,/); // the first, full run: not the one-target re-run
  expect(lines[2]).toMatch(new RegExp(`/workflows/billing.issue-invoices%2F${date}/${first.runId}/history$`));
  expect(status.stdout).toMatch(/re-run started .*: COMPLETED\n\s+total 1, succeeded 0, failed 1, skipped 0/);
  expect(status.stdout).toContain(
    `1 target(s) still failed (open failure records): npx tju failures billing.issue-invoices --date ${date}`,
  );
});

it("tju temporal runs Temporal's CLI against tju's server", async () => {
  const result = await tju(['temporal', 'workflow', 'count', '--query', `WorkflowId = 'billing.issue-invoices/2026-11-02'`], env);
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/Total: 2/);
});

it('records the unit and its attempts when a unit times out', async () => {
  const date = '2026-11-03';
  const id = await insertSubscription(h.pool, 'slow');
  await h.pool.query(`UPDATE subscriptions SET status = 'inactive' WHERE id <> $1`, [id]);
  const summary = await (await h.tju.trigger('test.timing-out-billing', { date })).result();
  expect(summary).toMatchObject({ total: 1, failed: 1 });
  const [failure] = await listFailures(h.pool, { batch: 'test.timing-out-billing', runKey: date });
  expect(failure).toMatchObject({ targetKey: id, unit: 'test.hanging-issue-invoice', attempts: 2, errorType: 'TimeoutFailure' });
});

it('builds the Temporal CLI with one line of output and the whole log in a file', () => {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'tju-cache-'));
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'tju-go-'));
  // A stand-in `go` that talks as much as the real one and leaves a binary where GOBIN says.
  fs.writeFileSync(
    path.join(bin, 'go'),
    '#!/bin/sh\nfor i in $(seq 1 160); do echo "go: downloading example.com/module$i v1.0.0" >&2; done\n' +
      'printf "#!/bin/sh\\n" > "$GOBIN/temporal" && chmod +x "$GOBIN/temporal"\n',
    { mode: 0o755 },
  );
  const saved = { PATH: process.env.PATH, TJU_CACHE_DIR: process.env.TJU_CACHE_DIR, TEMPORAL_CLI: process.env.TEMPORAL_CLI };
  const lines: string[] = [];
  try {
    Object.assign(process.env, { PATH: `${bin}:/usr/bin:/bin`, TJU_CACHE_DIR: cache });
    delete process.env.TEMPORAL_CLI;
    const binary = ensureTemporalCli((line) => lines.push(line));
    expect(fs.existsSync(binary)).toBe(true);
  } finally {
    Object.assign(process.env, saved);
    if (saved.TEMPORAL_CLI === undefined) delete process.env.TEMPORAL_CLI;
  }
  expect(lines).toEqual([expect.stringMatching(/^Building the Temporal CLI .*: once per machine, .*log: .*build\.log\)\.\.\.$/)]);
  const log = fs.readdirSync(cache).find((f) => f.endsWith('build.log'))!;
  expect(fs.readFileSync(path.join(cache, log), 'utf8').split('\n').filter(Boolean)).toHaveLength(160);
});

it('says how far the build is while it lasts', async () => {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'tju-go-'));
  fs.writeFileSync(
    path.join(bin, 'go'),
    '#!/bin/sh\nfor i in $(seq 1 40); do echo "go: downloading example.com/module$i v1.0.0" >&2; done\nsleep 1\n',
    { mode: 0o755 },
  );
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tju-gobin-'));
  const builder = path.join(__dirname, '..', 'dist', 'src', 'temporal', 'buildCli.js');
  const child = spawn(process.execPath, [builder, 'example.com/cmd@v1', out, path.join(out, 'build.log')], {
    env: { ...process.env, PATH: `${bin}:/usr/bin:/bin`, TJU_BUILD_PROGRESS_MS: '300' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(0);
  expect(stderr).toMatch(/… still building the Temporal CLI \(\d+ s\): 40 modules downloaded/);
  expect(stderr).toMatch(/built the Temporal CLI in \d+ s/);
});
