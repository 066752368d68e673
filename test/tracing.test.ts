// OpenTelemetry traces of a real run, caught by an in-memory exporter: one trace from the client's start through
// the trigger, each job (or bulk chunk), each unit attempt, to the unit's SQL — with tju's attributes, a retried
// attempt and a failed target marked — per target and in bulk chunks.
import { Client } from '@temporalio/client';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { SpanStatusCode } from '@opentelemetry/api';
import { defineBatch, defineUnit, NonRetryableError } from 'tju';
import { applyThingsSchema, insertThings, things } from './fixtures/things';
import { startHarness, type Harness } from './helpers/harness';
import { until } from './helpers/wait';
import { TjuClient } from '../src/temporal/client';
import { bundleWorkflows } from '../src/temporal/worker';
import { startTracing, type Tracing } from '../src/telemetry/tracing';
import { tracedClientInterceptors } from '../src/telemetry/temporal';
import { errorGroupOf } from '../src/telemetry/unitSpan';
import { createDashboard } from '../src/dashboard';

type ThingInput = { key: string; runKey: string };
/** Reserves stock: `t-flaky` times out on its first attempt. */
const reserve = defineUnit<ThingInput>({
  name: 'test.trace-reserve',
  retry: { maximumAttempts: 3, initialInterval: '50ms' },
  async run(tx, { key, runKey }, ctx) {
    if (key === 't-flaky' && ctx.attempt === 1) throw new Error('the warehouse timed out after 30 s');
    await tx.query('INSERT INTO thing_effects (key, run_key) VALUES ($1, $2)', [key, runKey]);
  },
});
/** Confirms the order: `t-broken` cannot be. */
const confirm = defineUnit<ThingInput>({
  name: 'test.trace-confirm',
  async run(tx, { key }) {
    const { rows } = await tx.query<{ broken: boolean }>('SELECT broken FROM things WHERE key = $1', [key]);
    if (rows[0].broken) throw new NonRetryableError(`order "${key}" cannot be confirmed: card 4242 declined`);
  },
});
const traced = defineBatch({ ...things, name: 'test.traced', unit: undefined, steps: [reserve, confirm] });

let h: Harness;
let tracing: Tracing;
let tju: TjuClient;
const exporter = new InMemorySpanExporter();
beforeAll(async () => {
  tracing = (await startTracing({ spanProcessor: new SimpleSpanProcessor(exporter) }))!;
  h = await startHarness([traced], { worker: false });
  await applyThingsSchema(h.pool);
  await insertThings(h.pool, [{ key: 't-ok' }, { key: 't-flaky' }, { key: 't-broken', broken: true }]);
  const client = new Client({
    connection: h.client.connection,
    namespace: h.client.options.namespace,
    interceptors: await tracedClientInterceptors(),
  });
  tju = new TjuClient({ client, batches: [traced], taskQueue: h.taskQueue, db: h.pool });
}, 120_000);
afterAll(async () => {
  await h.close();
  await tracing.shutdown();
});

/** A run's spans as a tree: by ID, children by parent, and the one root. */
function treeOf(spans: ReadableSpan[]) {
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
  const children = (span: ReadableSpan, name?: string | RegExp) =>
    spans.filter(
      (s) =>
        s.parentSpanId === span.spanContext().spanId &&
        (name === undefined || (typeof name === 'string' ? s.name === name : name.test(s.name))),
    );
  const parentOf = (span: ReadableSpan) => (span.parentSpanId ? byId.get(span.parentSpanId) : undefined);
  /** The names from the root down to `span`. */
  const pathOf = (span: ReadableSpan): string[] => {
    const up = parentOf(span);
    return [...(up ? pathOf(up) : []), span.name];
  };
  return { byId, children, parentOf, pathOf };
}

const unitSpans = (spans: ReadableSpan[], unit: string, target: string) =>
  spans
    .filter((s) => s.name === `tju.unit ${unit}` && s.attributes['tju.target_key'] === target)
    .sort((a, b) => Number(a.attributes['tju.attempt']) - Number(b.attributes['tju.attempt']));

async function tracedRun(date: string, overrides: Parameters<TjuClient['trigger']>[2]) {
  exporter.reset();
  const bundle = await bundleWorkflows({ tracing: true });
  const worker = await h.startWorker({ workflowBundle: bundle });
  try {
    const run = await tju.trigger(traced, { date }, overrides);
    expect(await run.result()).toMatchObject({ total: 3, succeeded: 2, failed: 1 });
  } finally {
    await worker.stop();
  }
  // Workflow spans reach the exporter through the worker's sink as the workflows end.
  await until(
    async () => exporter.getFinishedSpans(),
    (spans) => spans.some((s) => s.name === 'RunWorkflow:triggerWorkflow'),
    'the trigger workflow span',
  );
  const spans = exporter.getFinishedSpans();
  const [root] = spans.filter((s) => s.name === 'StartWorkflow:triggerWorkflow');
  // One trace: every span of the run shares the trace its start opened.
  expect(new Set(spans.map((s) => s.spanContext().traceId))).toEqual(new Set([root.spanContext().traceId]));
  expect(root.parentSpanId).toBeUndefined();
  return { spans, tree: treeOf(spans), root };
}

function expectUnitAttempts(spans: ReadableSpan[], tree: ReturnType<typeof treeOf>, date: string) {
  // The retried attempt: the first failed (error status, its group), the second succeeded.
  const [first, second] = unitSpans(spans, 'test.trace-reserve', 't-flaky');
  expect(first.attributes).toMatchObject({
    'tju.batch': 'test.traced',
    'tju.run_key': date,
    'tju.unit': 'test.trace-reserve',
    'tju.target_key': 't-flaky',
    'tju.attempt': 1,
    'tju.outcome': 'failed',
    'tju.error_type': 'Error',
    'tju.error_group': 'Error: the warehouse timed out after ? s',
  });
  expect(first.status.code).toBe(SpanStatusCode.ERROR);
  expect(second.attributes).toMatchObject({ 'tju.attempt': 2, 'tju.outcome': 'succeeded' });
  expect(second.status.code).not.toBe(SpanStatusCode.ERROR);
  // The unit's SQL, under its attempt.
  const [insert] = tree.children(second, 'INSERT');
  expect(insert.attributes).toMatchObject({ 'db.system': 'postgresql', 'db.operation': 'INSERT' });
  expect(String(insert.attributes['db.statement'])).toContain('INSERT INTO thing_effects');
  // The failed target: its confirm step refused, its reserve step done.
  const [refused] = unitSpans(spans, 'test.trace-confirm', 't-broken');
  expect(refused.status.code).toBe(SpanStatusCode.ERROR);
  expect(refused.attributes).toMatchObject({
    'tju.outcome': 'failed',
    'tju.error_type': 'NonRetryableError',
    'tju.error_group': 'NonRetryableError: order "?" cannot be confirmed: card ? declined',
  });
  expect(unitSpans(spans, 'test.trace-reserve', 't-broken')[0].attributes['tju.outcome']).toBe('succeeded');
  expect(tree.children(refused, 'SELECT')).toHaveLength(1);
  return { first, second, refused };
}

it('traces a per-target run: trigger → job → step activity → unit attempt → SQL', async () => {
  const { spans, tree } = await tracedRun('2099-10-01', { window: 3 });
  const { second, refused } = expectUnitAttempts(spans, tree, '2099-10-01');
  const chain = [
    'StartWorkflow:triggerWorkflow',
    'RunWorkflow:triggerWorkflow',
    'StartChildWorkflow:jobWorkflow',
    'RunWorkflow:jobWorkflow',
    'StartActivity:runUnit',
    'RunActivity:runUnit',
  ];
  expect(tree.pathOf(second)).toEqual([...chain, 'tju.unit test.trace-reserve']);
  expect(tree.pathOf(refused)).toEqual([...chain, 'tju.unit test.trace-confirm']);
  // A job per target under the trigger.
  const [trigger] = spans.filter((s) => s.name === 'RunWorkflow:triggerWorkflow');
  expect(tree.children(trigger, 'StartChildWorkflow:jobWorkflow')).toHaveLength(3);

  // The run history keeps the run's trace, and the dashboard links the run and the target to it.
  const traceId = trigger.spanContext().traceId;
  const { rows } = await h.pool.query(
    `SELECT r.id::text, h.trace_id FROM tju.runs r JOIN tju.run_history h ON h.run_id = r.id WHERE r.run_key = '2099-10-01'`,
  );
  expect(rows).toEqual([{ id: expect.any(String), trace_id: traceId }]);
  const dashboard = createDashboard({
    pool: h.pool,
    tju,
    client: h.client,
    batches: [traced],
    taskQueue: h.taskQueue,
    traceUrl: 'http://traces.example/trace/{traceId}',
  });
  try {
    const page = async (url: string) => (await dashboard.fetch(new Request(`http://localhost${url}`))).text();
    const link = `href="http://traces.example/trace/${traceId}"`;
    expect(await page(`/runs/${rows[0].id}`)).toContain(link);
    expect(await page(`/targets?key=t-flaky&batch=test.traced`)).toContain(link);
  } finally {
    await dashboard.close();
  }
}, 300_000);

it('traces a bulk run: trigger → chunk activity → each unit attempt → SQL', async () => {
  await h.pool.query('TRUNCATE thing_effects, tju.ledger, tju.failures');
  const { spans, tree } = await tracedRun('2099-10-02', { granularity: 'bulk', chunkSize: 2 });
  const { first, second, refused } = expectUnitAttempts(spans, tree, '2099-10-02');
  const chain = ['StartWorkflow:triggerWorkflow', 'RunWorkflow:triggerWorkflow', 'StartActivity:runChunk', 'RunActivity:runChunk'];
  // In a chunk a retried attempt runs again in the same activity: both attempts sit under it.
  expect(tree.pathOf(first)).toEqual([...chain, 'tju.unit test.trace-reserve']);
  expect(tree.pathOf(second)).toEqual([...chain, 'tju.unit test.trace-reserve']);
  expect(tree.pathOf(refused)).toEqual([...chain, 'tju.unit test.trace-confirm']);
  // Two chunks of at most two targets, each an activity of the trigger's (a retried chunk would add a
  // RunActivity span under the same StartActivity).
  expect(spans.filter((s) => s.name === 'StartActivity:runChunk')).toHaveLength(2);
}, 300_000);

it("names a failure's group as the failures table does", async () => {
  const samples: Array<[string, string]> = [
    ['Error', 'the warehouse timed out after 30 s'],
    ['NonRetryableError', `order "o-17" cannot be confirmed: card 4242 declined`],
    ['Error', `customer 'acme' has no card; id 0f8fad5b-d9cb-469f-a165-70867728950e`],
    ['TypeError', 'Cannot read properties of undefined (reading `x1`)'],
  ];
  const { rows: runs } = await h.pool.query<{ id: string }>(
    `INSERT INTO tju.runs (batch, run_key) VALUES ('test.traced', 'groups') RETURNING id`,
  );
  for (const [type, error] of samples) {
    const { rows } = await h.pool.query<{ error_group: string }>(
      `INSERT INTO tju.failures (run_id, target_key, unit, error, error_type, attempts)
       VALUES ($1, $2, 'u', $2, $3, 1) RETURNING error_group`,
      [runs[0].id, error, type],
    );
    expect(errorGroupOf(type, error)).toBe(rows[0].error_group);
  }
});
