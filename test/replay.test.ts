// Replays recorded histories of every workflow shape against today's workflow code: a change that would
// break runs already in flight fails here. Record the shapes that have no fixture yet (after a deliberate,
// versioned change) with TJU_RECORD_HISTORIES=1 npx jest test/replay.test.ts; existing fixtures are never
// overwritten, because they stand for runs recorded by earlier code that are still in flight somewhere.
// Histories of tju 0.1 (fixtures/histories-0.1/) are refused with the upgrade note, never replayed.
import { metricSinks } from '../src/temporal/metrics';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Resource } from '@opentelemetry/resources';
import { bundleWorkflows } from '../src/temporal/worker';
import { tracedWorkerOptions } from '../src/telemetry/temporal';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Worker } from '@temporalio/worker';
import { issueInvoices } from '../examples/billing/batches/issue-invoices';
import { ensureTemporalCli } from '../src/temporal/devServer';
import { startHarness, type Harness } from './helpers/harness';
import { startJobOfAnotherTrigger } from './helpers/jobs';
import { insertMixedSubscriptions, insertNoFeeSubscriptions, insertSubscriptions } from './helpers/billing';
import { lingeringBilling, mixedBilling } from './fixtures/batches';
import { processOrders } from '../examples/post-purchase/batches/process-orders';
import { applyShopSchema } from '../examples/post-purchase/schema';
import { seedOrders } from '../examples/post-purchase/demo/seed';
import { startShippingService } from '../examples/post-purchase/shipping/server';
import { resolveRun } from '../src/plan';
import { chunkWorkflowId, jobWorkflowId, partitionWorkflowId } from '../src/contracts/ids';
import { applyThingsSchema, insertThings, things } from './fixtures/things';
import { breakerOrders } from './fixtures/breakerOrders';
import { applyTenantSchema, fairOrders, insertTenantOrders } from './fixtures/tenants';

const DIR = path.join(__dirname, 'fixtures', 'histories');
/**
 * Each history's workflow ID (a history does not hold its own): a workflow that names its children after itself
 * (a partition's chunks) replays only under the ID it ran with. Histories recorded before this file replay
 * under their file name, which their code never read.
 */
const IDS = path.join(DIR, 'workflow-ids.json');
const workflowIds = (): Record<string, string> => (fs.existsSync(IDS) ? JSON.parse(fs.readFileSync(IDS, 'utf8')) : {});

async function record(): Promise<void> {
  const h = await startHarness([issueInvoices, mixedBilling, lingeringBilling, processOrders, things, breakerOrders, fairOrders]);
  // The format `temporal workflow show -o json` and the Web UI's download give: what operators would send.
  const save = (file: string, workflowId: string, runId?: string) => {
    if (fs.existsSync(path.join(DIR, file))) return;
    fs.writeFileSync(
      path.join(DIR, file),
      execFileSync(ensureTemporalCli(), [
        'workflow',
        'show',
        '-o',
        'json',
        '--address',
        h.address,
        '--namespace',
        h.namespace,
        '--workflow-id',
        workflowId,
        ...(runId ? ['--run-id', runId] : []),
      ]),
    );
    fs.writeFileSync(IDS, `${JSON.stringify({ ...workflowIds(), [file]: workflowId }, null, 2)}\n`);
  };
  try {
    await insertSubscriptions(h.pool, 12);
    const [noFee] = await insertNoFeeSubscriptions(h.pool);
    const perTarget = await h.tju.trigger('billing.issue-invoices', { date: '2026-11-01' }, { maxHistoryEvents: 40, window: 3 });
    await perTarget.result();
    await h.pool.query('UPDATE subscriptions SET monthly_fee = 3 WHERE id = $1', [noFee]);
    const retry = await h.tju.retry('billing.issue-invoices', { date: '2026-11-01' });
    await retry.result();
    const perChunk = await h.tju.trigger(
      'billing.issue-invoices',
      { date: '2026-11-02' },
      { granularity: 'per-chunk', chunkSize: 5, chunkConcurrency: 2, window: 2 },
    );
    await perChunk.result();
    const scheduled = await h.client.workflow.execute('scheduledRunWorkflow', {
      workflowId: 'billing.issue-invoices/scheduled-replay-fixture',
      taskQueue: h.taskQueue,
      args: [{ batch: 'billing.issue-invoices' }],
    });
    expect(scheduled).toBeDefined();

    const ids = [
      ['trigger-per-target', perTarget.workflowId],
      ['trigger-retry', retry.workflowId],
      ['trigger-per-chunk', perChunk.workflowId],
      ['scheduled-run', 'billing.issue-invoices/scheduled-replay-fixture'],
    ];
    for (const [name, workflowId] of ids) {
      // The first run of a continue-as-new chain, and its last.
      const runs = [];
      for await (const wf of h.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(wf.runId);
      for (const [i, runId] of runs.entries()) save(`${name}-${i}.json`, workflowId, runId);
    }
    const chunks = [];
    for await (const wf of h.client.workflow.list({ query: `WorkflowType = 'chunkJobWorkflow' AND TaskQueue = '${h.taskQueue}'` })) {
      chunks.push(wf);
    }
    save('chunk-job.json', chunks[0].workflowId, chunks[0].runId);

    // Lanes of local activities that finish out of order, with retried, retry-exhausted and non-retryable
    // targets: the shape whose failure records once took a different place among the commands on replay.
    await insertMixedSubscriptions(h.pool, 40);
    const mixed = await h.tju.trigger(
      'test.mixed-billing',
      { date: '2026-11-03' },
      { granularity: 'per-chunk', chunkSize: 60, chunkConcurrency: 8, window: 1 },
    );
    await mixed.result();
    for await (const wf of chunkJobsOf(h, '2026-11-03')) save('chunk-job-lanes-failures.json', wf.workflowId, wf.runId);
    // Controls: a pause and a resume while chunk jobs run, then a cancel that cancels chunks in flight.
    const controlled = await h.tju.trigger(
      'test.mixed-billing',
      { date: '2026-11-04' },
      { granularity: 'per-chunk', chunkSize: 4, chunkConcurrency: 2, window: 2 },
    );
    const progressed = async (n: number) => {
      while ((await controlled.progress()).succeeded < n) await new Promise((resolve) => setTimeout(resolve, 20));
    };
    await progressed(4);
    await controlled.pause();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await controlled.resume();
    await progressed(12);
    await controlled.cancel({ now: true, reason: 'fixture' });
    expect((await controlled.result()).stopped?.state).toBe('cancelled');
    save('trigger-controlled-0.json', controlled.workflowId);
    for await (const wf of h.client.workflow.list({
      query: `WorkflowType = 'chunkJobWorkflow' AND TjuRunKey = '2026-11-04' AND ExecutionStatus = 'Canceled'`,
    })) {
      save('chunk-job-cancelled.json', wf.workflowId, wf.runId);
    }
    // A chunk cancelled mid-way, after some of its targets gave up: their failure records come after the cancel.
    await insertSubscriptions(h.pool, 60);
    const lingering = await h.tju.trigger(
      'test.lingering-billing',
      { date: '2026-11-05' },
      { granularity: 'per-chunk', chunkSize: 200, chunkConcurrency: 1, window: 1 },
    );
    const invoiced = async () =>
      (await h.pool.query(`SELECT count(*)::int AS n FROM invoices WHERE billing_date = '2026-11-05'`)).rows[0].n;
    while ((await invoiced()) < 50) await new Promise((resolve) => setTimeout(resolve, 50));
    await lingering.cancel({ now: true });
    expect((await lingering.result()).cancelled).toBeGreaterThan(0);
    for await (const wf of chunkJobsOf(h, '2026-11-05')) save('chunk-job-cancelled-failures.json', wf.workflowId, wf.runId);
    // Run history: the start, a pause and a resume written while jobs run (a coroutine beside the dispatch
    // loop), the counts at each continue-as-new, the end.
    const recorded = await h.tju.trigger('test.mixed-billing', { date: '2026-11-06' }, { maxHistoryEvents: 80, window: 3 });
    while ((await recorded.progress()).succeeded < 5) await new Promise((resolve) => setTimeout(resolve, 20));
    await recorded.pause();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await recorded.resume();
    await recorded.result();
    const chain = [];
    for await (const wf of h.client.workflow.list({ query: `WorkflowId = '${recorded.workflowId}'` })) chain.push(wf);
    chain.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
    save('trigger-history-first.json', recorded.workflowId, chain[0].runId);
    save('trigger-history-last.json', recorded.workflowId, chain[chain.length - 1].runId);
    // A chain in a chunk: waves of local steps around a wave of a regular, rate-limited one, with orders the
    // carrier refuses once (retried) and one it refuses for good; then a retry that skips the steps done.
    const shipping = await startShippingService({ delayMs: 5, failEvery: 3 });
    process.env.SHIPPING_URL = shipping.url;
    try {
      await applyShopSchema(h.pool);
      await seedOrders(h.pool, 100);
      const chained = await h.tju.trigger(
        'shop.process-orders',
        { date: '2099-02-01' },
        { granularity: 'per-chunk', chunkSize: 100, chunkConcurrency: 4, window: 1 },
      );
      expect((await chained.result()).failed).toBe(1);
      for await (const wf of chunkJobsOf(h, '2099-02-01')) save('chunk-job-chain.json', wf.workflowId, wf.runId);
      await h.pool.query(`UPDATE orders SET postal_code = '100-0001' WHERE id = 97`);
      expect((await (await h.tju.retry('shop.process-orders', { date: '2099-02-01' })).result()).succeeded).toBe(1);
      save('job-chain-retried.json', 'shop.process-orders/2099-02-01/97');
    } finally {
      await shipping.close();
    }
    await recordEdges(h, save);
    await recordOneShape(h, save);
    await recordStagedBulk(h, save);
    await recordLocalChunk(h, save);
    await recordStagedPerChunk(h, save);
    await recordCanary(h, save);
    await recordBreaker(h, save);
    await recordFair(h, save);
    save('job-succeeded.json', 'billing.issue-invoices/2026-11-01/1');
    // Subscription 13 has no fee: its first job failed, the retry's succeeded after the fee was set.
    save('job-retried.json', 'billing.issue-invoices/2026-11-01/13');
  } finally {
    await h.close();
  }
}

/**
 * The trigger's edges: unambiguous IDs over hostile keys, two partitions of chunk jobs and the
 * run's verification; then a per-target run that awaits a job another trigger started and settles one that was
 * terminated (its target recorded as failed).
 */
async function recordEdges(h: Harness, save: (file: string, workflowId: string, runId?: string) => unknown): Promise<void> {
  await applyThingsSchema(h.pool);
  await insertThings(
    h.pool,
    ['p0', 'p1', 'retry', 'a/b', 'with space', '日本語', 'x'.repeat(300), 'k1', 'k2', 'k3'].map((key) => ({ key })),
  );
  const partitioned = await h.tju.trigger(
    'test.things',
    { date: '2026-11-20' },
    { partitions: 2, granularity: 'per-chunk', chunkSize: 2, verify: true },
  );
  await partitioned.result();
  save('trigger-edges-partitions-0.json', partitioned.workflowId);
  save('trigger-edges-partition-p0.json', partitionWorkflowId(partitioned.workflowId, 0));
  save('chunk-job-edges.json', chunkWorkflowId(partitionWorkflowId(partitioned.workflowId, 0), 1, 'a/b', 'k1'));

  const date = '2026-11-21';
  await h.pool.query(`UPDATE things SET sleep_ms = 1500 WHERE key = 'k1'`);
  await h.pool.query(`UPDATE things SET sleep_ms = 3000, broken = true WHERE key = 'k2'`);
  const run = resolveRun(things, { date });
  await startJobOfAnotherTrigger(h, run, 'k1');
  const awaiting = await h.tju.trigger('test.things', { date }, { window: 3 });
  const stuck = h.client.workflow.getHandle(jobWorkflowId('test.things', date, 'k2'));
  while (!(await stuck.describe().catch(() => undefined))) await new Promise((resolve) => setTimeout(resolve, 50));
  await stuck.terminate('fixture');
  await awaiting.result();
  save('trigger-edges-awaited-0.json', awaiting.workflowId);
}

/**
 * Canary gates: a per-target run held after its canary and resumed by an operator, and a partitioned run of
 * chunk jobs whose gate opened by itself before the partitions split what the canary left.
 */
async function recordCanary(h: Harness, save: (file: string, workflowId: string, runId?: string) => unknown): Promise<void> {
  const held = await h.tju.trigger('test.mixed-billing', { date: '2026-11-27' }, { window: 4, canary: { targets: 6 } });
  for (;;) {
    const progress = await held.progress().catch(() => undefined);
    if (progress?.held) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await held.resume();
  await held.result();
  save('trigger-canary-held.json', held.workflowId);
  const partitioned = await h.tju.trigger(
    'test.things',
    { date: '2026-11-28' },
    { partitions: 2, granularity: 'per-chunk', chunkSize: 2, canary: { targets: 3, maxFailureRatio: 0.5, continue: 'auto' } },
  );
  await partitioned.result();
  save('trigger-canary-partitions.json', partitioned.workflowId);
}

/**
 * A carrier down when the run starts, so its breaker opens and the jobs wait on timers until a probe finds it
 * back: a per-target job that waited, and a chunk job whose lanes waited side by side.
 */
async function recordBreaker(h: Harness, save: (file: string, workflowId: string, runId?: string) => unknown): Promise<void> {
  const shipping = await startShippingService({ delayMs: 5 });
  process.env.SHIPPING_URL = shipping.url;
  try {
    await applyShopSchema(h.pool);
    for (const [date, options] of [
      ['2099-04-01', { window: 10 }],
      ['2099-04-02', { granularity: 'per-chunk', chunkSize: 30, chunkConcurrency: 6 }],
    ] as const) {
      await seedOrders(h.pool, 30);
      shipping.setDown(true);
      const run = await h.tju.trigger('test.breaker-orders', { date }, options);
      for (;;) {
        const { rows } = await h.pool.query(`SELECT 1 FROM tju.breaker_events WHERE event = 'reopened'`);
        if (rows.length) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      shipping.setDown(false);
      expect((await run.result()).total).toBeGreaterThan(0);
      await h.pool.query('TRUNCATE tju.breakers, tju.breaker_events');
    }
    save('job-breaker-waited.json', jobWorkflowId('test.breaker-orders', '2099-04-01', '1'));
    for await (const wf of chunkJobsOf(h, '2099-04-02')) save('chunk-job-breaker-waited.json', wf.workflowId, wf.runId);
  } finally {
    await shipping.close();
  }
}

/**
 * Fair runs: three tenants at two in flight each, so pages come back empty while every key is at its bound and
 * the trigger waits for a job to end — per-target (jobs carrying their fairness keys) and bulk.
 */
async function recordFair(h: Harness, save: (file: string, workflowId: string, runId?: string) => unknown): Promise<void> {
  await applyTenantSchema(h.pool);
  await insertTenantOrders(h.pool, 'big', 'a', 16, { broken: 7, flaky: 5 });
  await insertTenantOrders(h.pool, 'small', 'z', 4);
  await insertTenantOrders(h.pool, 'mid', 'm', 6);
  const options = { per: { window: 5 }, bulk: { granularity: 'bulk', chunkSize: 3, window: 3 } } as const;
  for (const [date, mode] of [
    ['2099-08-01', 'per'],
    ['2099-08-02', 'bulk'],
  ] as const) {
    const run = await h.tju.trigger('test.fair-orders', { date }, options[mode]);
    expect((await run.result()).total).toBe(26);
    save(`trigger-fair-${mode === 'per' ? 'per-target' : 'bulk'}.json`, run.workflowId);
  }
}

/**
 * Every job a chain, defaults resolved at plan time: a single unit's per-target job and its per-chunk chunk
 * (retried and failing targets in lanes), and a bulk run's trigger.
 */
async function recordOneShape(h: Harness, save: (file: string, workflowId: string, runId?: string) => unknown): Promise<void> {
  await insertMixedSubscriptions(h.pool, 30);
  const perTarget = await h.tju.trigger('test.mixed-billing', { date: '2026-11-22' }, { window: 5 });
  await perTarget.result();
  save('trigger-one-shape-per-target.json', perTarget.workflowId);
  save('job-chain-of-one.json', jobWorkflowId('test.mixed-billing', '2026-11-22', '7'));
  const perChunk = await h.tju.trigger(
    'test.mixed-billing',
    { date: '2026-11-23' },
    { granularity: 'per-chunk', chunkSize: 40, chunkConcurrency: 6 },
  );
  await perChunk.result();
  for await (const wf of chunkJobsOf(h, '2026-11-23')) {
    save('chunk-job-chain-of-one.json', wf.workflowId, wf.runId);
  }
  const bulk = await h.tju.trigger('test.mixed-billing', { date: '2026-11-24' }, { granularity: 'bulk', chunkSize: 20 });
  await bulk.result();
  save('trigger-one-shape-bulk.json', bulk.workflowId);
}

/**
 * A bulk run whose pages are staged in PostgreSQL: three chunks in flight at once, pages of several chunks and a
 * short last one, retried and failing targets settled inside the chunks.
 */
async function recordStagedBulk(h: Harness, save: (file: string, workflowId: string, runId?: string) => unknown): Promise<void> {
  await insertMixedSubscriptions(h.pool, 60);
  const bulk = await h.tju.trigger(
    'test.mixed-billing',
    { date: '2026-11-25' },
    { granularity: 'bulk', pageSize: 25, chunkSize: 10, window: 3, chunkConcurrency: 3 },
  );
  await bulk.result();
  save('trigger-staged-bulk.json', bulk.workflowId);
}

/** A per-chunk chunk of 40 mixed targets in one local activity of three lanes, with retried and failing targets. */
async function recordLocalChunk(h: Harness, save: (file: string, workflowId: string, runId?: string) => unknown): Promise<void> {
  await insertMixedSubscriptions(h.pool, 40);
  const perChunk = await h.tju.trigger(
    'test.mixed-billing',
    { date: '2026-11-26' },
    { granularity: 'per-chunk', chunkSize: 40, chunkConcurrency: 3 },
  );
  await perChunk.result();
  for await (const wf of chunkJobsOf(h, '2026-11-26')) {
    save('chunk-job-local.json', wf.workflowId, wf.runId);
  }
}

/**
 * A per-chunk run of local units whose pages are staged as chunks: three chunk jobs in flight, pages of several
 * chunks and a short last one, retried and failing targets in three lanes; and one of its chunks.
 */
async function recordStagedPerChunk(h: Harness, save: (file: string, workflowId: string, runId?: string) => unknown): Promise<void> {
  await insertMixedSubscriptions(h.pool, 45);
  const perChunk = await h.tju.trigger(
    'test.mixed-billing',
    { date: '2026-11-27' },
    { granularity: 'per-chunk', pageSize: 25, chunkSize: 10, window: 3, chunkConcurrency: 3 },
  );
  await perChunk.result();
  save('trigger-staged-per-chunk.json', perChunk.workflowId);
  for await (const wf of chunkJobsOf(h, '2026-11-27')) {
    if (wf.workflowId.includes('/~chunk/2/')) save('chunk-job-staged.json', wf.workflowId, wf.runId);
  }
}

/** The chunk jobs of a run of the harness, by its run key. */
const chunkJobsOf = (h: Harness, runKey: string) =>
  h.client.workflow.list({ query: `WorkflowType = 'chunkJobWorkflow' AND TjuRunKey = '${runKey}'` });

const fixtures = () =>
  fs
    .readdirSync(DIR)
    .filter((file) => file.endsWith('.json') && file !== 'workflow-ids.json')
    .sort();
const read = (file: string) => JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8'));

beforeAll(async () => {
  if (process.env.TJU_RECORD_HISTORIES) await record();
});

it('has recorded histories of every workflow type', () => {
  const types = new Set(fixtures().map((file) => read(file).events[0].workflowExecutionStartedEventAttributes.workflowType.name));
  expect([...types].sort()).toEqual(['chunkJobWorkflow', 'jobWorkflow', 'scheduledRunWorkflow', 'triggerWorkflow']);
});

it("refuses tju 0.1's histories with the upgrade note, not a nondeterminism error", async () => {
  const dir = path.join(__dirname, 'fixtures', 'histories-0.1');
  const files = fs.readdirSync(dir).filter((file) => file.endsWith('.json'));
  const histories = files.map((file) => ({ workflowId: file, history: JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) }));
  const errors: Array<[string, string, string]> = [];
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: { codePath: process.env.TJU_TEST_WORKFLOW_BUNDLE! }, sinks: metricSinks() },
    histories,
  )) {
    errors.push([result.workflowId, result.error?.name ?? 'none', result.error?.message ?? '']);
  }
  expect(errors.length).toBe(files.length);
  for (const [, name, message] of errors) {
    expect(name).toBe('ReplayError'); // a failed workflow task, which Temporal retries: not DeterminismViolationError
    expect(message).toMatch(/was started by tju 0\.1, which tju 0\.2 cannot run: finish it on a 0\.1 worker or cancel it/);
    expect(message).toContain('(CHANGELOG.md: Upgrading to 0.2)');
  }
});

it('replays every recorded history without non-determinism', async () => {
  // The replayer takes the JSON as `temporal workflow show -o json` writes it.
  const ids = workflowIds();
  const histories = fixtures().map((file) => ({ workflowId: ids[file] ?? file, history: read(file) }));
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: { codePath: process.env.TJU_TEST_WORKFLOW_BUNDLE! }, sinks: metricSinks() }, // as a worker has them
    histories,
  )) {
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  expect(failures).toEqual([]);
  expect(histories.length).toBeGreaterThanOrEqual(7);
});

it('replays every recorded history with tracing on: turning OTEL_* on in a deploy does not break runs in flight', async () => {
  const ids = workflowIds();
  const histories = fixtures().map((file) => ({ workflowId: ids[file] ?? file, history: read(file) }));
  const exporter = new InMemorySpanExporter();
  const tracing = {
    spanProcessor: new SimpleSpanProcessor(exporter),
    resource: new Resource({ 'service.name': 'tju' }),
    shutdown: async () => {},
  };
  const { sinks } = await tracedWorkerOptions(tracing, metricSinks());
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: await bundleWorkflows({ tracing: true }), sinks }, histories)) {
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  expect(failures).toEqual([]);
  // Replaying exports nothing: the spans were the original run's.
  expect(exporter.getFinishedSpans()).toEqual([]);
}, 120_000);
