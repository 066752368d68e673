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
import { ENGINE, type ChunkInput, type RunSummary, type StagedPage, type Target } from '../src/contracts/types';
import { stagedOrGiven } from '../activities/deps';
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
    engine: ENGINE,
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

/** How many of the stubborn units have come back from their sleep: after that, nothing of theirs can commit later. */
const stubbornReturned = { n: 0 };

/** Writes its invoice, then outlives its 300 ms timeout by far, ignoring `ctx.signal`. */
const stubbornBilling = defineBatch({
  ...mixedBilling,
  name: 'test.stubborn-billing',
  job: { ...mixedBilling.job, timeout: '300ms', retry: { maximumAttempts: 2, initialInterval: '10ms' } },
  unit: defineUnit<IssueInvoiceInput>({
    name: 'test.stubborn-issue-invoice',
    async run(tx, input, ctx) {
      try {
        await issueInvoice.run(tx, input, ctx);
        await new Promise((resolve) => setTimeout(resolve, 1500));
      } finally {
        stubbornReturned.n++;
      }
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
  // Once every attempt has come back from its sleep and would have committed: nothing it wrote was.
  for (const deadline = Date.now() + 30_000; stubbornReturned.n < 4 && Date.now() < deadline;) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(stubbornReturned.n).toBe(4);
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

/** Keys and options that need quoting in SQL or JSON, in key order: what a page of some app's query may hold. */
const HOSTILE_ROWS: Target[] = [
  { key: "'; DROP TABLE tju.ledger; --", payment_method: "'); DELETE FROM invoices; --" },
  { key: '"quoted"', payment_method: 'back\\slash \\u0000 not a NUL' },
  { key: 'a/b', payment_method: null, nested: { deep: [1, 'two', { three: true }] } },
  { key: 'chunk/1-3', payment_method: 'card', amount: 12.5 },
  { key: 'line\nbreak', payment_method: '\t tab' },
  { key: 'with space', payment_method: 'x'.repeat(10_000) },
  { key: '日本語', payment_method: '請求書' },
  { key: '🙂', payment_method: '💳' },
  { key: '~retry', payment_method: '{"json": "in a string"}' },
].sort((a, b) => (a.key < b.key ? -1 : 1));

/** A batch whose target query returns those rows, keyset-paged. */
const hostileBilling = defineBatch({
  ...mixedBilling,
  name: 'test.hostile-billing',
  targets: async (_db, { after, limit }) => HOSTILE_ROWS.filter((row) => after === null || row.key > after).slice(0, limit) as never,
});

describe('staged chunks', () => {
  const activities = () => createActivities({ pool, batches: new BatchRegistry([mixedBilling, hostileBilling]) });
  /** The first page of a run, staged as the trigger asks for a bulk run's pages. */
  const stagedPage = (batch: Batch, date: string, limit: number, stageChunks: number) =>
    new MockActivityEnvironment().run(activities().fetchTargets, {
      batch: batch.name,
      runKey: date,
      params: resolveRun(batch, { date }).params,
      after: null,
      limit,
      stageChunks,
    });

  it('stages a page as chunks in key order, whatever the keys and options, and a chunk reads back exactly what was selected', async () => {
    const page = (await stagedPage(hostileBilling, '2026-11-05', 100, 4)) as StagedPage;

    // The history carries row numbers, counts and first and last keys; never a target.
    expect(page).toEqual({
      more: false,
      chunks: [
        { staged: expect.any(String), count: 4, first: HOSTILE_ROWS[0].key, last: HOSTILE_ROWS[3].key },
        { staged: expect.any(String), count: 4, first: HOSTILE_ROWS[4].key, last: HOSTILE_ROWS[7].key },
        { staged: expect.any(String), count: 1, first: HOSTILE_ROWS[8].key, last: HOSTILE_ROWS[8].key },
      ],
    });
    const readBack = await Promise.all(page.chunks.map((chunk) => stagedOrGiven(pool, chunk)));
    expect(readBack.flat()).toEqual(HOSTILE_ROWS);
  });

  it('runs a staged chunk like one that carries its targets, resumes it by index, and says so when its row is gone', async () => {
    const date = '2026-11-06';
    await pool.query('TRUNCATE subscriptions, invoices, tju.ledger, tju.failures RESTART IDENTITY CASCADE');
    await insertMixedSubscriptions(pool, 40);
    const page = (await stagedPage(mixedBilling, date, 40, 40)) as StagedPage;
    expect(page.more).toBe(true); // a full page: the trigger asks for the next one
    const [chunk] = page.chunks;
    const input = { ...(await chunkOf(date)), targets: chunk };
    const units: string[] = [];

    // Resumed after its 20th target: the staged list is the one the first attempt ran, so the index holds.
    const resumed = { next: 20, counts: { succeeded: 0, failed: 0, skipped: 0 }, ahead: {} };
    const counts = (await environment(resumed).run(chunkActivity(units), input)) as Omit<RunSummary, 'total'>;
    const targets = await stagedOrGiven(pool, chunk);
    expect(new Set(units)).toEqual(new Set(targets.slice(20).map((t) => t.key)));
    expect(counts.succeeded + counts.failed).toBe(20);
    expect((await invoiceCounts(pool, date)).duplicates).toBe(0);

    await pool.query('DELETE FROM tju.staged_chunks WHERE id = $1', [chunk.staged]);
    const gone = new RegExp(`staged chunk ${chunk.staged} is gone`);
    await expect(environment().run(chunkActivity([]), input)).rejects.toMatchObject({
      message: expect.stringMatching(gone),
      nonRetryable: true,
    });
    await expect(
      new MockActivityEnvironment().run(activities().settleTargets, {
        batch: mixedBilling.name,
        runKey: date,
        params: input.params,
        targets: chunk,
        reason: { type: 'JobEnded', message: 'its job gave up' },
      }),
    ).rejects.toMatchObject({ message: expect.stringMatching(gone), nonRetryable: true });
  });
});
