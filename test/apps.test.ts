// One app never takes another's work: each app polls a task queue of its own by default, and a worker that
// does not define a batch whose work reaches it (two apps on one queue, an older release mid-deploy) never
// fails its targets — it leaves the work to a worker that defines the batch, and says so.
import path from 'node:path';
import { listFailures } from '../src/db/ledger';
import { loadConfig } from '../src/config';
import { mixedBilling } from './fixtures/batches';
import { insertMixedSubscriptions, invoiceCounts } from './helpers/billing';
import { startHarness, type Harness } from './helpers/harness';
import { startWorkerProcess } from './helpers/workerProcess';
import { until } from './helpers/wait';

let h: Harness;
beforeAll(async () => {
  h = await startHarness([mixedBilling], { worker: false });
});
afterAll(() => h.close());

const OTHER_APP = path.join(__dirname, 'fixtures', 'other-app.config.ts');

it("defaults the task queue to the app's own name", () => {
  expect(loadConfig({}, { taskQueue: 'acme-billing' }).taskQueue).toBe('acme-billing');
  expect(loadConfig({ TJU_TASK_QUEUE: 'shared' }, { taskQueue: 'acme-billing' }).taskQueue).toBe('shared');
  expect(loadConfig({}, {}).taskQueue).toBe('tju');
});

it("leaves a batch's work to a worker that defines it: no target failed, every effect once", async () => {
  const date = '2026-11-01';
  const { failing, billable } = await insertMixedSubscriptions(h.pool, 60);
  // Only the other app's worker polls at first: the run waits, and nothing is recorded as failed.
  const other = await startWorkerProcess(h, { TJU_LOG_LEVEL: 'warn' }, OTHER_APP);
  const run = await h.tju.trigger('test.mixed-billing', { date }, { granularity: 'per-chunk', chunkSize: 20, window: 4 });
  // The other worker has taken the batch's work and left it: still nothing is recorded as failed.
  await until(
    async () => other.output(),
    (output) => output.includes('this worker does not define the batch'),
    'the other worker',
  );
  expect(await listFailures(h.pool, { batch: 'test.mixed-billing', runKey: date })).toEqual([]);
  expect(await run.state()).toBe('RUNNING');

  // Then the app's own worker joins, beside the other: units that reach the other are left for this one.
  const own = await startWorkerProcess(h);
  try {
    const summary = await run.result();
    expect(summary).toMatchObject({ total: 60, failed: failing.length });
    expect(summary.succeeded + summary.skipped).toBe(billable.length);
  } finally {
    await own.kill('SIGTERM');
    await other.kill('SIGTERM');
  }
  expect(await invoiceCounts(h.pool, date)).toMatchObject({ invoices: billable.length, duplicates: 0 });
  // The only failures are the batch's own (broken and doomed customers), none from the other worker.
  const failures = await listFailures(h.pool, { batch: 'test.mixed-billing', runKey: date });
  expect(failures.map((f) => f.targetKey).sort()).toEqual([...failing].sort());
  expect(failures.every((f) => f.errorType !== 'UnknownBatch')).toBe(true);
  expect(other.output()).toContain('this worker does not define the batch');
  expect(other.output()).toContain('"batch":"test.mixed-billing"');
}, 180_000);
