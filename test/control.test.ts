// Operators' controls of a running run: pause, resume, cancel (with or without its jobs in flight), through
// continue-as-new, partitions and a worker killed while paused; and a failure threshold that stops a run by itself.
import { failingBilling, lingeringBilling, slowBilling, slowPartitionedBilling } from './fixtures/batches';
import { insertSubscriptions, invoiceCounts } from './helpers/billing';
import { tju } from './helpers/cli';
import { startHarness, type Harness } from './helpers/harness';
import { until, untilProgress } from './helpers/wait';
import { createDashboard } from '../src/dashboard';
import { startWorkerProcess } from './helpers/workerProcess';
import { listFailures } from '../src/db/ledger';
import { TjuClient } from '../src/temporal/client';
import type { RunProgress } from '../src/contracts/types';

let h: Harness;
beforeAll(async () => {
  h = await startHarness([slowBilling, slowPartitionedBilling, failingBilling, lingeringBilling]);
  // Four that the lingering batch refuses at once (NonRetryableError), first in key order; every batch's target.
  await h.pool.query(`INSERT INTO subscriptions (customer, status, monthly_fee, payment_method)
    SELECT 'broken-' || g, 'active', 10, 'card' FROM generate_series(1, 4) AS g`);
  await insertSubscriptions(h.pool, TOTAL - 4);
});
const TOTAL = 200;
afterAll(() => h.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const finished = (p: RunProgress) => p.succeeded + p.failed + p.skipped;

/** The run's rows in tju's run history, oldest first. */
async function history(workflowId: string) {
  const { rows } = await h.pool.query(
    `SELECT kind, state, params, counts, reason, finished_at IS NOT NULL AS finished
       FROM tju.run_history WHERE workflow_id = $1 ORDER BY started_at`,
    [workflowId],
  );
  return rows;
}

/** Polls the run history until its latest row is in `state`. */
async function untilRecorded(workflowId: string, state: string) {
  const deadline = Date.now() + 30_000;
  while ((await history(workflowId)).at(-1)?.state !== state) {
    if (Date.now() > deadline)
      throw new Error(`run history of ${workflowId} never said ${state}: ${JSON.stringify(await history(workflowId))}`);
    await sleep(100);
  }
}

it('pause stops dispatching while jobs in flight finish; resume continues from the cursor, each target once', async () => {
  const date = '2026-12-01';
  const run = await h.tju.trigger('test.slow-billing', { date }, { maxHistoryEvents: 150 });
  await untilProgress(run, (p) => p.continuedRuns >= 1 && finished(p) >= 40); // across a continue-as-new

  const paused = await tju(['pause', 'test.slow-billing', '--date', date], h.env);
  expect(paused.stdout).toMatch(/^paused test\.slow-billing\/2026-12-01: \d+ job\(s\) in flight finish\n/);
  expect(paused.stdout).toContain('continue it with: tju resume test.slow-billing --date 2026-12-01');
  const drained = await untilProgress(run, (p) => p.paused === true && p.inFlight === 0);
  // Drained and paused, it dispatches nothing: its effects are what it counted, short of the whole run.
  expect(drained.total).toBeLessThan(TOTAL);
  expect((await invoiceCounts(h.pool, date)).invoices).toBe(drained.succeeded);
  expect((await tju(['status', 'test.slow-billing', '--date', date], h.env)).stdout).toMatch(/; paused, in flight 0/);
  await untilRecorded(run.workflowId, 'paused');

  expect((await tju(['resume', 'test.slow-billing', '--date', date], h.env)).stdout).toContain('resumed test.slow-billing/2026-12-01');
  await untilRecorded(run.workflowId, 'running');
  const summary = await run.result();
  expect(summary).toEqual({ total: TOTAL, succeeded: TOTAL, failed: 0, skipped: 0 });
  expect(await invoiceCounts(h.pool, date)).toMatchObject({ invoices: TOTAL, duplicates: 0 });
  // One row for the run across its continue-as-new chain, ended with the summary it returned.
  expect(await history(run.workflowId)).toEqual([
    { kind: 'run', state: 'completed', params: { date }, counts: summary, reason: null, finished: true },
  ]);
  // Who paused and resumed it, beside its history.
  const { rows: actions } = await h.pool.query(
    `SELECT a.action, a.actor, a.detail FROM tju.run_actions a JOIN tju.runs r ON r.id = a.run_id WHERE r.run_key = $1 ORDER BY a.id`,
    [date],
  );
  expect(actions.map((a) => [a.action, a.detail.workflows])).toEqual([
    ['pause', [run.workflowId]],
    ['resume', [run.workflowId]],
  ]);
  expect(actions[0].actor).toMatch(/^cli:.+@.+$/);
});

it('cancel ends the run with its summary after its jobs in flight; a new run of the key does the rest once', async () => {
  const date = '2026-12-02';
  const run = await h.tju.trigger('test.slow-billing', { date });
  await untilProgress(run, (p) => finished(p) >= 20);

  const cancelled = await tju(['cancel', 'test.slow-billing', '--date', date, '--reason', 'gateway down'], h.env);
  expect(cancelled.code).toBe(0);
  expect(cancelled.stdout).toMatch(/; stopped \(cancelled\): gateway down\n$/);
  const summary = await run.result();
  expect(summary.stopped).toEqual({ state: 'cancelled', reason: 'gateway down' });
  expect(summary.cancelled).toBeUndefined(); // in-flight jobs finished
  expect(summary.total).toBeLessThan(TOTAL);
  expect(summary.succeeded).toBe(summary.total);
  expect((await invoiceCounts(h.pool, date)).invoices).toBe(summary.succeeded);

  // Controls act on a running run only.
  const again = await tju(['pause', 'test.slow-billing', '--date', date], h.env);
  expect(again).toMatchObject({ code: 2, stderr: 'tju: test.slow-billing/2026-12-02 is not running (COMPLETED)\n' });

  const rerun = await (await h.tju.trigger('test.slow-billing', { date })).result();
  expect(rerun).toMatchObject({ total: TOTAL - summary.total, failed: 0 });
  expect(await invoiceCounts(h.pool, date)).toMatchObject({ invoices: TOTAL, duplicates: 0 });
  // The cancelled run and the re-run of its key, each a row of its own.
  expect(await history(run.workflowId)).toEqual([
    { kind: 'run', state: 'cancelled', params: { date }, counts: summary, reason: 'gateway down', finished: true },
    { kind: 'run', state: 'completed', params: { date }, counts: rerun, reason: null, finished: true },
  ]);
});

it('cancel --now cancels the chunk jobs in flight too; their committed units stay committed, once', async () => {
  const date = '2026-12-03';
  const run = await h.tju.trigger(
    'test.slow-billing',
    { date },
    { granularity: 'per-chunk', chunkSize: 20, chunkConcurrency: 2, window: 2 },
  );
  await untilProgress(run, (p) => finished(p) >= 20 && p.inFlight > 0);
  await run.cancel({ now: true });
  const summary = await run.result();
  expect(summary.stopped?.state).toBe('cancelled');
  expect(summary.cancelled).toBeGreaterThan(0);
  expect(summary.total).toBeLessThan(TOTAL);
  const { invoices, duplicates } = await invoiceCounts(h.pool, date);
  expect(duplicates).toBe(0);
  expect(invoices).toBeGreaterThanOrEqual(summary.succeeded);
  expect(invoices).toBeLessThanOrEqual(summary.succeeded + summary.cancelled!);

  expect((await (await h.tju.trigger('test.slow-billing', { date })).result()).failed).toBe(0);
  expect(await invoiceCounts(h.pool, date)).toMatchObject({ invoices: TOTAL, duplicates: 0 });
});

it("cancel --now still records the failures of a chunk's targets that gave up before it", async () => {
  const date = '2026-12-07';
  const run = await h.tju.trigger(
    'test.lingering-billing',
    { date },
    { granularity: 'per-chunk', chunkSize: TOTAL, chunkConcurrency: 1, window: 1 },
  );
  // One lane, in key order: the four refused targets come first, then the slow ones commit one by one.
  while ((await invoiceCounts(h.pool, date)).invoices < 5) await sleep(50);
  await run.cancel({ now: true });
  // A chunk of local activities hears the cancel at its next workflow task (at most ~8 s: the task's heartbeat).
  const summary = await run.result();
  expect(summary).toMatchObject({ total: TOTAL, cancelled: TOTAL, stopped: { state: 'cancelled' } });
  const { invoices } = await invoiceCounts(h.pool, date);
  expect(invoices).toBeLessThan(TOTAL - 4);
  const failures = await listFailures(h.pool, { batch: 'test.lingering-billing', runKey: date });
  expect(failures.map((f) => f.error)).toEqual(['account closed', 'account closed', 'account closed', 'account closed']);
});

it('controls reach every partition, and survive a worker killed while paused', async () => {
  const date = '2026-12-04';
  // A queue of its own, polled only by a worker process that the test can kill.
  const queue = { TJU_TASK_QUEUE: `${h.taskQueue}-killable` };
  const client = new TjuClient({ client: h.client, batches: [slowPartitionedBilling], taskQueue: queue.TJU_TASK_QUEUE });
  let worker = await startWorkerProcess(h, queue);
  try {
    const run = await client.trigger('test.slow-partitioned-billing', { date });
    await untilProgress(run, (p) => (p.runningPartitions ?? []).length === 2 && finished(p) >= 20);
    await run.pause();
    const paused = await untilProgress(run, (p) => p.paused === true && p.inFlight === 0);
    for (const partition of paused.runningPartitions!) {
      expect(await h.client.workflow.getHandle(partition).query('progress')).toMatchObject({ paused: true, inFlight: 0 });
    }
    // The dashboard's run page finds both partitions in one visibility list, each with its live counts.
    const dashboard = createDashboard({
      pool: h.pool,
      tju: client,
      client: h.client,
      batches: [slowPartitionedBilling],
      taskQueue: queue.TJU_TASK_QUEUE,
    });
    try {
      const { rows } = await h.pool.query(`SELECT id::text FROM tju.runs WHERE batch = 'test.slow-partitioned-billing' AND run_key = $1`, [
        date,
      ]);
      const partitions = await until(
        async () =>
          (
            (await (await dashboard.fetch(new Request(`http://localhost/api/runs/${rows[0].id}`))).json()) as {
              partitions: Array<{ workflowId: string; progress?: RunProgress }>;
            }
          ).partitions,
        (found) => found.length === 2 && found.every((p) => p.progress?.paused === true),
        'the run page listing both partitions',
      );
      expect(partitions.map((p) => p.workflowId)).toEqual([`${run.workflowId}/~p0`, `${run.workflowId}/~p1`]);
    } finally {
      await dashboard.close();
    }
    await worker.kill('SIGKILL');
    worker = await startWorkerProcess(h, queue);
    // A query is answered by a worker that has replayed the run: the new one, which finds it still paused.
    expect(await untilProgress(run, () => true)).toMatchObject({ paused: true, total: paused.total });

    await run.resume();
    await untilProgress(run, (p) => !p.paused && p.total > paused.total);
    await run.cancel({ reason: 'freeze' });
    const summary = await run.result();
    expect(summary.stopped).toEqual({ state: 'cancelled', reason: 'freeze' });
    expect(summary.total).toBeLessThan(TOTAL);
    expect(await invoiceCounts(h.pool, date)).toMatchObject({ invoices: summary.succeeded, duplicates: 0 });
    // Its onComplete hook ran once for the run (not once per partition), with the summary it ended with: the
    // worker calls it after the run has ended.
    const completions = async () =>
      (await h.pool.query('SELECT batch, run_key, summary FROM run_completions').catch(() => ({ rows: [] }))).rows;
    for (let i = 0; i < 100 && (await completions()).length === 0; i++) await sleep(100);
    expect(await completions()).toEqual([{ batch: 'test.slow-partitioned-billing', run_key: date, summary }]);
    // One history row, the parent's, through the pause the killed worker missed no write of.
    expect(await history(run.workflowId)).toEqual([
      { kind: 'run', state: 'cancelled', params: { date }, counts: summary, reason: 'freeze', finished: true },
    ]);
  } finally {
    await worker.kill('SIGTERM');
  }
});

it('stops a run whose every target fails once failures pass maxFailures, not after every target', async () => {
  const date = '2026-12-05';
  await h.pool.query(
    `INSERT INTO subscriptions (customer, status, monthly_fee, payment_method)
     SELECT 'bulk-' || g, 'active', 10, 'card' FROM generate_series(1, 5000 - $1::int) AS g`,
    [TOTAL],
  );
  const run = await h.tju.trigger('test.failing-billing', { date }, { granularity: 'per-chunk', chunkSize: 50, window: 4 });
  const summary = await run.result();
  expect(summary.stopped).toEqual({ state: 'failed', reason: expect.stringMatching(/^\d+ targets failed, more than maxFailures 50$/) });
  // The chunks in flight when it passed 50 finish: at most the window's worth of chunks more.
  expect(summary.failed).toBeGreaterThan(50);
  expect(summary.failed).toBeLessThanOrEqual(50 + 4 * 50);
  expect(summary.total).toBe(summary.failed);
  expect(summary.total).toBeLessThan(5000);
  expect(await listFailures(h.pool, { batch: 'test.failing-billing', runKey: date })).toHaveLength(summary.failed);

  const status = await tju(['status', 'test.failing-billing', '--date', date], h.env);
  expect(status.stdout).toMatch(/stopped \(failed\): \d+ targets failed, more than maxFailures 50/);
  expect(await history(run.workflowId)).toEqual([
    { kind: 'run', state: 'failed', params: { date }, counts: summary, reason: summary.stopped!.reason, finished: true },
  ]);
});

it('stops on a failure ratio once enough targets have finished', async () => {
  const date = '2026-12-06';
  const run = await h.tju.trigger('test.failing-billing', { date }, { maxFailureRatio: 0.5, minTargets: 20, window: 5 });
  const summary = await run.result();
  expect(summary.stopped?.reason).toMatch(/^\d+ of \d+ targets failed, more than maxFailureRatio 0\.5$/);
  expect(summary.failed).toBeGreaterThanOrEqual(20);
  expect(summary.failed).toBeLessThanOrEqual(20 + 5);
});
