// Hard faults during a run: the worker SIGKILLed, PostgreSQL connections terminated (the restart of PostgreSQL
// itself is in test/serial/, which runs alone).
// Each run mixes succeeding, retried and failing targets; afterwards every effect is checked by SQL:
// one invoice per billable subscription, one failure record per failing one, nothing doubled or lost.
import { issueInvoices } from '../examples/billing/batches/issue-invoices';
import { seedSubscriptions } from '../examples/billing/demo/seed';
import { listFailures } from '../src/db/ledger';
import { mixedRuns } from './helpers/mixedRuns';
import type { Granularity, RunSummary } from '../src/contracts/types';
import { mixedBilling } from './fixtures/batches';
import { insertMixedSubscriptions, invoiceCounts } from './helpers/billing';
import { startHarness, type Harness } from './helpers/harness';
import { replayAll } from './helpers/replay';
import { startWorkerProcess } from './helpers/workerProcess';

let h: Harness;
beforeAll(async () => {
  h = await startHarness([issueInvoices, mixedBilling], { worker: false });
});
afterAll(() => h.close());

const { waitForInvoices, expectMixedRunEffects } = mixedRuns(() => h);

/** Runs the mixed batch for `date` on a worker process SIGKILLed at 20%, 45% and 70% of its invoices. */
async function runThroughKills(
  date: string,
  invoices: number,
  options: { granularity: Granularity; maxHistoryEvents?: number },
): Promise<RunSummary> {
  let worker = await startWorkerProcess(h);
  try {
    const run = await h.tju.trigger('test.mixed-billing', { date }, options);
    for (const fraction of [0.2, 0.45, 0.7]) {
      await waitForInvoices(date, Math.floor(invoices * fraction));
      await worker.kill('SIGKILL');
      worker = await startWorkerProcess(h);
    }
    return await run.result();
  } finally {
    await worker.kill('SIGTERM');
  }
}

it('per-chunk: survives three SIGKILLs of the worker with retried and failing targets in every chunk', async () => {
  const date = '2026-11-01';
  const { failing, billable } = await insertMixedSubscriptions(h.pool, 3000);
  const summary = await runThroughKills(date, billable.length, { granularity: 'per-chunk' });

  await expectMixedRunEffects(date, summary, failing, billable);
  // What the cache-less workers replayed, every chunk's history replays again.
  const replay = await replayAll(h, 'chunkJobWorkflow');
  expect(replay.errors).toEqual([]);
  expect(replay.replayed).toBe(6); // chunks of 500
  // Its units are local, so its chunks were staged: no chunk job's input carried a target.
  await expectStagedChunks(date, summary.total, 'chunkJobWorkflow');
}, 600_000);

/**
 * The chunks a run's trigger dispatched (bulk activities or per-chunk child workflows) each name a staged row
 * instead of carrying targets, and those rows hold every target the run counted.
 */
async function expectStagedChunks(date: string, total: number, jobType: 'runChunk' | 'chunkJobWorkflow'): Promise<void> {
  const history = await h.client.workflow.getHandle(`test.mixed-billing/${date}`).fetchHistory();
  const chunks = history.events!.flatMap((event) => {
    const job = event.activityTaskScheduledEventAttributes ?? event.startChildWorkflowExecutionInitiatedEventAttributes;
    const type =
      event.activityTaskScheduledEventAttributes?.activityType ?? event.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType;
    if (type?.name !== jobType) return [];
    return [JSON.parse(Buffer.from(job!.input!.payloads![0].data!).toString()).targets];
  });
  expect(chunks.length).toBeGreaterThan(1);
  for (const chunk of chunks)
    expect(chunk).toEqual({ staged: expect.any(String), count: expect.any(Number), first: expect.any(String), last: expect.any(String) });
  expect(chunks.reduce((sum, chunk) => sum + chunk.count, 0)).toBe(total);
  const { rows: staged } = await h.pool.query<{ keys: number }>(
    `SELECT count(DISTINCT t->>'key')::int AS keys
       FROM tju.staged_chunks c JOIN tju.runs r ON r.id = c.run_id, json_array_elements(c.targets) t
      WHERE r.batch = 'test.mixed-billing' AND r.run_key = $1 AND c.id = ANY($2::bigint[])`,
    [date, chunks.map((chunk) => chunk.staged)],
  );
  expect(staged[0].keys).toBe(total);
}

it('bulk: survives three SIGKILLs in a 10,000-target run; each chunk resumes after its last finished target', async () => {
  await h.pool.query('TRUNCATE invoices, subscriptions, tju.ledger, tju.failures RESTART IDENTITY CASCADE');
  const date = '2026-11-05';
  const { failing, billable } = await insertMixedSubscriptions(h.pool, 10_000);
  const summary = await runThroughKills(date, billable.length, { granularity: 'bulk' });

  await expectMixedRunEffects(date, summary, failing, billable);
  // Each failure recorded once, with the attempts its policy allowed: 1 for refused, 3 for the rest.
  const failures = await listFailures(h.pool, { batch: 'test.mixed-billing', runKey: date });
  const { rows } = await h.pool.query<{ id: string; customer: string }>('SELECT id::text, customer FROM subscriptions WHERE id = ANY($1)', [
    failing,
  ]);
  const attempts = Object.fromEntries(rows.map((r) => [r.id, r.customer.startsWith('broken') ? 1 : 3]));
  for (const f of failures) expect(f.attempts).toBe(attempts[f.targetKey]);
  // A resumed chunk reran only what finished after its last heartbeat (the ledger skipped those), not the chunk.
  expect(summary.skipped).toBeLessThan(billable.length * 0.25);
  // Its targets were staged in PostgreSQL, not carried through history: each chunk's input names its staged row
  // (a restarted worker replayed those after each kill), and the rows hold every target the run counted.
  await expectStagedChunks(date, summary.total, 'runChunk');
  expect((await replayAll(h, 'triggerWorkflow')).errors).toEqual([]);
}, 600_000);

it('per-target: survives three SIGKILLs with retried and failing targets while the trigger continues as new', async () => {
  await h.pool.query('TRUNCATE invoices, subscriptions, tju.ledger, tju.failures RESTART IDENTITY CASCADE');
  const date = '2026-11-02';
  const { failing, billable } = await insertMixedSubscriptions(h.pool, 600);
  // A short history, so the trigger continues as new several times while the worker is killed.
  const summary = await runThroughKills(date, billable.length, { granularity: 'per-target', maxHistoryEvents: 300 });

  await expectMixedRunEffects(date, summary, failing, billable);
  let runs = 0;
  for await (const _ of h.client.workflow.list({ query: `WorkflowId = 'test.mixed-billing/${date}'` })) runs++;
  expect(runs).toBeGreaterThanOrEqual(3);
  // Every trigger run's history replays on today's code.
  const replay = await replayAll(h, 'triggerWorkflow');
  expect(replay.errors).toEqual([]);
}, 600_000);

const TERMINATED = {
  'per-chunk': { date: '2026-11-03', targets: 1500 },
  'per-target': { date: '2026-11-04', targets: 300 },
  bulk: { date: '2026-11-07', targets: 6000 },
};

it.each<keyof typeof TERMINATED>(['per-chunk', 'per-target', 'bulk'])(
  '%s: a worker whose PostgreSQL connections are terminated again and again stays up and finishes the run',
  async (granularity) => {
    await h.pool.query('TRUNCATE invoices, subscriptions, tju.ledger, tju.failures RESTART IDENTITY CASCADE');
    const { date, targets } = TERMINATED[granularity];
    const { failing, billable } = await insertMixedSubscriptions(h.pool, targets);
    const worker = await startWorkerProcess(h);
    const run = await h.tju.trigger('test.mixed-billing', { date }, { granularity });

    let terminated = 0;
    let inTransaction = 0;
    for (const fraction of [0.1, 0.25, 0.4, 0.55, 0.7]) {
      await waitForInvoices(date, Math.floor(billable.length * fraction));
      const cut = await terminateBackends();
      terminated += cut.all;
      inTransaction += cut.inTransaction;
    }
    const summary = await run.result();

    expect(terminated).toBeGreaterThanOrEqual(5);
    // Bulk's lanes are always in a transaction (a unit's, or the next target's claim opened with the last
    // COMMIT), so some were cut mid-way; per-target and per-chunk units may all be between transactions.
    if (granularity === 'bulk') expect(inTransaction).toBeGreaterThanOrEqual(1);
    expect(worker.child.exitCode).toBeNull(); // still running
    expect(worker.output()).not.toMatch(/Unhandled|Emitted 'error'/);
    expect(await worker.kill('SIGTERM')).toBe(0);
    await expectMixedRunEffects(date, summary, failing, billable);
  },
  600_000,
);

/** Terminates every other session on the harness's database: the worker's pool and the test's own. */
async function terminateBackends(): Promise<{ all: number; inTransaction: number }> {
  const database = new URL(h.databaseUrl).pathname.slice(1);
  const { rows } = await h.pool.query<{ all: number; inTransaction: number }>(
    `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS all,
            count(*) FILTER (WHERE state <> 'idle')::int AS "inTransaction"
       FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
    [database],
  );
  return rows[0];
}

it('drains on SIGTERM and exits 0; a restarted worker finishes the run with nothing done twice or lost', async () => {
  const { active } = await seedSubscriptions(h.pool, 600, { inactiveEvery: 50, brokenEvery: 0 });
  const date = '2026-11-06';
  let worker = await startWorkerProcess(h);
  const run = await h.tju.trigger('billing.issue-invoices', { date });

  await waitForInvoices(date, Math.floor(active * 0.3));
  expect(await worker.kill('SIGTERM')).toBe(0);

  // A worker with a short lifetime drains and exits 0 by itself, for its supervisor to restart.
  worker = await startWorkerProcess(h, { TJU_MAX_LIFETIME: '2s' });
  expect(await worker.exited()).toBe(0);

  worker = await startWorkerProcess(h);
  const summary = await run.result();
  expect(await worker.kill('SIGTERM')).toBe(0);

  expect(await invoiceCounts(h.pool, date)).toEqual({ invoices: active, subscriptions: active, duplicates: 0, inactive: 0 });
  expect(summary).toMatchObject({ total: active, failed: 0 });
  expect(summary.succeeded + summary.skipped).toBe(active);
}, 300_000);
