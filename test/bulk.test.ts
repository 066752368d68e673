// A bulk chunk's heartbeat is its resume point: the index before which every target is finished. A unit that
// reports its own progress (`ctx.heartbeat(…)`) keeps the chunk alive but never replaces that point. The real
// activity against PostgreSQL, in Temporal's mock activity environment, which records every heartbeat.
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Pool } from 'pg';
import { createActivities } from '../activities';
import { selectUnbilledSubscriptions } from '../examples/billing/batches/issue-invoices/trigger';
import { createPool } from '../src/db/pool';
import { buildTriggerInput, resolveRun } from '../src/plan';
import { BatchRegistry } from '../src/registry';
import type { ChunkInput, RunSummary } from '../workflows/types';
import { mixedBilling } from './fixtures/batches';
import { defineBatch, type Batch } from '../src/batch';
import { defineUnit } from '../src/unit';
import { issueInvoice, type IssueInvoiceInput } from '../examples/billing/batches/issue-invoices/unit';
import { insertMixedSubscriptions, invoiceCounts } from './helpers/billing';
import { createTestDatabase, dropTestDatabase } from './helpers/databases';

let pool: Pool;
let database: { name: string; url: string };
beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool(database.url, 10);
});
afterAll(async () => {
  await pool.end();
  await dropTestDatabase(database.name);
});

/** One bulk chunk of a batch's targets for `date`, as its trigger would send it. */
async function chunkOf(date: string, batch: Batch = mixedBilling): Promise<ChunkInput> {
  const run = resolveRun(batch, { date });
  const targets = await selectUnbilledSubscriptions(pool, {
    params: run.params as { date: string },
    runKey: date,
    after: null,
    upTo: null,
    limit: 500,
  });
  return {
    batch: batch.name,
    runKey: date,
    params: run.params,
    targets: targets.map((t) => ({ ...t })),
    settings: buildTriggerInput(run, { granularity: 'bulk' }).job,
    concurrency: 4,
  };
}

const chunkActivity = (units: string[], maxConcurrentUnits?: number) =>
  createActivities({
    pool,
    batches: new BatchRegistry([mixedBilling, stubbornBilling, countedBilling]),
    maxConcurrentUnits,
    onUnitFinished: (event) => units.push(event.targetKey),
  }).runChunk;

/** Writes its invoice, then outlives its 300 ms timeout by far, ignoring `ctx.signal`. */
const stubbornBilling = defineBatch({
  ...mixedBilling,
  name: 'test.stubborn-billing',
  job: { ...mixedBilling.job, timeout: '300ms', retry: { maximumAttempts: 2, initialInterval: '10ms' } },
  unit: defineUnit<IssueInvoiceInput>({
    name: 'test.stubborn-issue-invoice',
    async run(tx, input, ctx) {
      await issueInvoice.run(tx, input, ctx);
      await new Promise((resolve) => setTimeout(resolve, 1500));
    },
  }),
});

/** Counts its units running at once. */
const running = { now: 0, most: 0 };
const countedBilling = defineBatch({
  ...mixedBilling,
  name: 'test.counted-billing',
  unit: defineUnit<IssueInvoiceInput>({
    name: 'test.counted-issue-invoice',
    async run(tx, input, ctx) {
      running.most = Math.max(running.most, ++running.now);
      try {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return await issueInvoice.run(tx, input, ctx);
      } finally {
        running.now--;
      }
    },
  }),
});

const environment = (heartbeatDetails?: unknown) =>
  new MockActivityEnvironment({
    activityType: 'runChunk',
    isLocal: false,
    heartbeatTimeoutMs: 5000,
    startToCloseTimeoutMs: 86_400_000,
    heartbeatDetails,
  });

it('heartbeats only its resume point, however often its units report their own progress', async () => {
  const date = '2026-11-01';
  const { failing, billable } = await insertMixedSubscriptions(pool, 40);
  const env = environment();
  const beats: unknown[] = [];
  env.on('heartbeat', (details) => beats.push(details));

  const counts = await env.run(chunkActivity([]), await chunkOf(date));

  expect(counts).toMatchObject({ succeeded: billable.length, failed: failing.length, skipped: 0 });
  expect(beats.length).toBeGreaterThan(0);
  for (const beat of beats) expect(beat).toEqual({ next: expect.any(Number), counts: expect.any(Object), ahead: expect.any(Object) });
  expect(beats.at(-1)).toMatchObject({ next: 40 });
});

it('a resumed chunk starts at its resume point and runs none of the targets before it again', async () => {
  const date = '2026-11-02';
  await pool.query('TRUNCATE subscriptions, invoices, tju.ledger, tju.failures RESTART IDENTITY CASCADE');
  await insertMixedSubscriptions(pool, 40);
  const input = await chunkOf(date);
  const units: string[] = [];
  // What the attempt that died had heartbeated: its first 25 targets finished, and the 30th.
  const resumed = {
    next: 25,
    counts: { succeeded: 20, failed: 5, skipped: 0 },
    ahead: { 29: { 'test.mixed-issue-invoice': 'succeeded' } },
  };

  const counts = (await environment(resumed).run(chunkActivity(units), input)) as Omit<RunSummary, 'total'>;

  const ran = new Set(units);
  expect(input.targets.slice(0, 25).filter((t) => ran.has(t.key))).toEqual([]);
  expect(ran.has(input.targets[29].key)).toBe(false);
  expect(
    input.targets
      .slice(25)
      .filter((_, i) => i !== 4)
      .every((t) => ran.has(t.key)),
  ).toBe(true);
  expect(counts.succeeded + counts.failed + counts.skipped).toBe(40);
  expect((await invoiceCounts(pool, date)).duplicates).toBe(0);
});

it('stops a unit that outlives its timeout and rolls back what it wrote, instead of letting it commit later', async () => {
  const date = '2026-11-03';
  await pool.query('TRUNCATE subscriptions, invoices, tju.ledger, tju.failures RESTART IDENTITY CASCADE');
  await pool.query(`INSERT INTO subscriptions (customer, status, monthly_fee) VALUES ('slow-1', 'active', 10), ('slow-2', 'active', 10)`);
  const chunk = await chunkOf(date, stubbornBilling);
  const counts = (await environment().run(chunkActivity([]), chunk)) as Omit<RunSummary, 'total'>;

  expect(counts).toMatchObject({ succeeded: 0, failed: 2 });
  const failures = await pool.query<{ error_type: string; attempts: number }>('SELECT error_type, attempts FROM tju.failures');
  expect(failures.rows).toEqual([
    { error_type: 'TimeoutError', attempts: 2 },
    { error_type: 'TimeoutError', attempts: 2 },
  ]);
  // Long after the units would have finished on their own: nothing they wrote was committed.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  expect((await invoiceCounts(pool, date)).invoices).toBe(0);
  expect((await pool.query('SELECT count(*)::int AS n FROM tju.ledger')).rows[0].n).toBe(0);
});

it('runs at most maxConcurrentUnits units at once in a process, however many chunks and lanes ask', async () => {
  const date = '2026-11-04';
  await pool.query('TRUNCATE subscriptions, invoices, tju.ledger, tju.failures RESTART IDENTITY CASCADE');
  await pool.query(
    `INSERT INTO subscriptions (customer, status, monthly_fee) SELECT 'plain-' || g, 'active', 10 FROM generate_series(1, 60) g`,
  );
  const input = await chunkOf(date, countedBilling);
  const halves = [input.targets.slice(0, 30), input.targets.slice(30)].map((targets) => ({ ...input, targets, concurrency: 10 }));
  // Two chunks of 10 lanes each, in one process whose bound is 4.
  const runChunk = chunkActivity([], 4);
  const results = await Promise.all(halves.map((half) => environment().run(runChunk, half)));

  expect(results).toEqual([expect.objectContaining({ succeeded: 30 }), expect.objectContaining({ succeeded: 30 })]);
  expect(running.most).toBe(4);
});
