// The canary gate: a run does its first N targets, then holds with their figures until a person resumes it
// (or goes on by itself when they pass and the batch says so). Nothing past N is dispatched before the gate
// opens, in any mode, partitions included, through a worker killed while it holds.
import { testBatches } from './fixtures/batches';
import { insertMixedSubscriptions, insertSubscriptions, invoiceCounts, resetBillingData } from './helpers/billing';
import { tju } from './helpers/cli';
import { startHarness, type Harness } from './helpers/harness';
import { until, untilProgress } from './helpers/wait';
import { startWorkerProcess } from './helpers/workerProcess';
import { createDashboard } from '../src/dashboard';

let h: Harness;
beforeAll(async () => {
  h = await startHarness(testBatches, { worker: false });
});
afterAll(() => h.close());

/** Rows of the ledger for the run key, in the order their units began. */
async function ledgerInOrder(date: string): Promise<string[]> {
  const { rows } = await h.pool.query<{ key: string }>(
    `SELECT l.target_key AS key FROM tju.ledger l JOIN tju.runs r ON r.id = l.run_id WHERE r.run_key = $1 ORDER BY l.recorded_at, l.target_key`,
    [date],
  );
  return rows.map((r) => r.key);
}

const runHistory = async (workflowId: string) =>
  (await h.pool.query(`SELECT state, reason, counts FROM tju.run_history WHERE workflow_id = $1`, [workflowId])).rows[0];

it('bulk: holds after exactly its canary, through a worker SIGKILL, and resume does the rest once', async () => {
  await resetBillingData(h.pool);
  await insertSubscriptions(h.pool, 60);
  const date = '2026-12-10';
  let worker = await startWorkerProcess(h);
  try {
    const run = await h.tju.trigger(
      'test.mixed-billing',
      { date },
      { granularity: 'bulk', chunkSize: 4, pageSize: 8, canary: { targets: 10 } },
    );
    const held = await untilProgress(run, (p) => p.held !== undefined);
    expect(held).toMatchObject({ total: 10, succeeded: 10, failed: 0, paused: true, inFlight: 0 });
    expect(held.held).toBe('canary passed (0 of 10 canary targets failed, within maxFailureRatio 0): waiting for tju resume');
    expect(held.canary).toMatchObject({ targets: 10, succeeded: 10, failed: 0, passed: true, decision: 'waiting', groups: [] });
    expect(held.canary!.jobMs.jobs).toBe(3); // chunks of 4, 4 and 2: the page was cut to the canary
    expect(await invoiceCounts(h.pool, date)).toMatchObject({ invoices: 10, duplicates: 0 });

    // What a person sees: the CLI, and the run history (the dashboard reads it and the live progress).
    const status = await tju(['status', 'test.mixed-billing', '--date', date], h.env);
    expect(status.stdout).toContain('paused by its gate: canary passed (0 of 10 canary targets failed');
    expect(status.stdout).toContain(
      'canary: 10 target(s): succeeded 10, failed 0, skipped 0 (within maxFailureRatio 0); the gate waits for tju resume',
    );
    await until(
      () => runHistory(run.workflowId),
      (row) => row?.state === 'paused',
      'the hold in the run history',
    );
    expect(await runHistory(run.workflowId)).toMatchObject({ reason: held.held, counts: { canary: { decision: 'waiting' } } });

    const dashboard = createDashboard({ pool: h.pool, tju: h.tju, client: h.client, batches: testBatches, taskQueue: h.taskQueue });
    try {
      const { rows } = await h.pool.query(`SELECT id::text FROM tju.runs WHERE run_key = $1`, [date]);
      const page = await (await dashboard.fetch(new Request(`http://localhost/runs/${rows[0].id}`))).text();
      expect(page).toContain('<section id="canary">');
      expect(page).toContain('the gate waits for Resume');
      expect(page).toContain('canary passed (0 of 10 canary targets failed, within maxFailureRatio 0): waiting for tju resume');
    } finally {
      await dashboard.close();
    }

    // The worker dies while the gate is closed; a new one replays the run and still holds it.
    await worker.kill('SIGKILL');
    worker = await startWorkerProcess(h);
    const replayed = await untilProgress(run, (p) => p.held !== undefined);
    expect(replayed).toMatchObject({ total: 10, paused: true });
    expect(await invoiceCounts(h.pool, date)).toMatchObject({ invoices: 10, duplicates: 0 });
    expect(await ledgerInOrder(date)).toHaveLength(10);

    expect((await tju(['resume', 'test.mixed-billing', '--date', date], h.env)).code).toBe(0);
    const summary = await run.result();
    expect(summary).toMatchObject({ total: 60, succeeded: 60, failed: 0, canary: { targets: 10, decision: 'waiting' } });
    expect(await invoiceCounts(h.pool, date)).toMatchObject({ invoices: 60, duplicates: 0 });
    expect(await runHistory(run.workflowId)).toMatchObject({ state: 'completed', reason: null });
  } finally {
    await worker.kill('SIGKILL');
  }
});

it('over its ratio it holds even when the batch says auto, with the failures by cause; cancel ends it, nothing past it done', async () => {
  await resetBillingData(h.pool);
  const { failing } = await insertMixedSubscriptions(h.pool, 60);
  const date = '2026-12-11';
  const worker = await h.startWorker();
  try {
    const run = await h.tju.trigger('test.mixed-billing', { date }, { canary: { targets: 20, maxFailureRatio: 0.05, continue: 'auto' } });
    const held = await untilProgress(run, (p) => p.held !== undefined);
    const canary = held.canary!;
    expect(canary).toMatchObject({ targets: 20, passed: false, decision: 'held' });
    expect(canary.failed).toBeGreaterThan(1); // every 7th subscription is closed, every 11th declined
    expect(held.held).toBe(
      `canary failed (${canary.failed} of 20 canary targets failed, more than maxFailureRatio 0.05): resume to go on anyway, or cancel`,
    );
    expect(canary.groups.reduce((n, g) => n + g.count, 0)).toBe(canary.failed);
    expect(canary.groups.map((g) => g.unit)).toEqual(canary.groups.map(() => 'test.mixed-issue-invoice'));
    expect(canary.jobMs.jobs).toBe(20);

    expect((await tju(['cancel', 'test.mixed-billing', '--date', date], h.env)).code).toBe(0);
    const summary = await run.result();
    expect(summary).toMatchObject({ total: 20, stopped: { state: 'cancelled' } });
    // Every canary target has its effect or its failure record; none past the canary was touched.
    expect((await invoiceCounts(h.pool, date)).invoices).toBe(canary.succeeded);
    const { rows } = await h.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM tju.failures');
    expect(rows[0].n).toBe(canary.failed);
    expect(canary.failed).toBeLessThanOrEqual(failing.length);
    expect(await ledgerInOrder(date)).toHaveLength(canary.succeeded + canary.skipped);
  } finally {
    await worker.stop();
  }
});

it('under its ratio with continue auto, a partitioned run opens the gate itself: the canary first, then the partitions', async () => {
  await resetBillingData(h.pool);
  await insertSubscriptions(h.pool, 60);
  const date = '2026-12-12';
  const worker = await h.startWorker();
  try {
    const run = await h.tju.trigger('test.slow-partitioned-billing', { date }, { canary: { targets: 12, continue: 'auto' } });
    const summary = await run.result();
    expect(summary).toMatchObject({ total: 60, succeeded: 60, failed: 0, canary: { targets: 12, passed: true, decision: 'continued' } });
    expect(await invoiceCounts(h.pool, date)).toMatchObject({ invoices: 60, duplicates: 0 });
    // The ledger's order: the first 12 keys (the target query's order is the id's) began before any other, so
    // nothing else was dispatched before the gate.
    const { rows } = await h.pool.query<{ key: string }>(
      `SELECT l.target_key AS key FROM tju.ledger l JOIN tju.runs r ON r.id = l.run_id WHERE r.run_key = $1 ORDER BY l.target_key::bigint LIMIT 12`,
      [date],
    );
    expect(new Set((await ledgerInOrder(date)).slice(0, 12))).toEqual(new Set(rows.map((r) => r.key)));
    const partitions: string[] = [];
    for await (const wf of h.client.workflow.list({ query: `WorkflowType = 'triggerWorkflow' AND TjuRunKey = '${date}'` })) {
      if (wf.workflowId !== run.workflowId) partitions.push(wf.workflowId);
    }
    expect(partitions.sort()).toEqual([`${run.workflowId}/~p0`, `${run.workflowId}/~p1`]);
  } finally {
    await worker.stop();
  }
});

it('refuses a canary no run can work with, in one line, starting nothing', async () => {
  const bad = await tju(['trigger', 'test.mixed-billing', '--date', '2026-12-13', '--canary', '5000'], h.env);
  expect(bad).toMatchObject({ code: 2, stdout: '' });
  expect(bad.stderr.trim()).toBe('tju: test.mixed-billing: canary.targets must be a whole number from 1 to 1000 (got 5000)');
  const zero = await tju(['trigger', 'test.mixed-billing', '--date', '2026-12-13', '--canary', '0'], h.env);
  expect(zero.code).not.toBe(0);
  expect(zero.stderr.trim().split('\n')).toHaveLength(1);
  await expect(h.tju.trigger('test.mixed-billing', { date: '2026-12-13' }, { canary: { targets: 5, maxFailureRatio: 2 } })).rejects.toThrow(
    'canary.maxFailureRatio must be from 0 to 1 (got 2)',
  );
  expect(await h.tju.runs('test.mixed-billing')).not.toContainEqual(expect.objectContaining({ runKey: '2026-12-13' }));
});
