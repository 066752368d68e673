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

/** One bulk chunk of the mixed batch's targets for `date`, as its trigger would send it. */
async function chunkOf(date: string): Promise<ChunkInput> {
  const run = resolveRun(mixedBilling, { date });
  const targets = await selectUnbilledSubscriptions(pool, {
    params: run.params as { date: string },
    runKey: date,
    after: null,
    upTo: null,
    limit: 500,
  });
  return {
    batch: mixedBilling.name,
    runKey: date,
    params: run.params,
    targets: targets.map((t) => ({ ...t })),
    settings: buildTriggerInput(run, { granularity: 'bulk' }).job,
    concurrency: 4,
  };
}

const chunkActivity = (units: string[]) =>
  createActivities({
    pool,
    batches: new BatchRegistry([mixedBilling]),
    onUnitFinished: (event) => units.push(event.targetKey),
  }).runChunk;

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
