// Concurrency inside a workflow must produce the same commands on replay whatever order its promises
// resolve in: live, local activities resolve in completion order; on replay, in the order they were
// scheduled. A per-chunk run with several chunks in flight, uneven unit latencies and every kind of outcome
// (a chunk of local units runs its lanes inside one local activity; recorded chunks whose lanes are workflow
// commands replay in test/replay.test.ts), then every chunk's history replayed against the same code, as a
// restarted worker or an evicted cache would.
import { listFailures } from '../src/db/ledger';
import { mixedBilling } from './fixtures/batches';
import { insertMixedSubscriptions, invoiceCounts } from './helpers/billing';
import { startHarness, type Harness } from './helpers/harness';
import { replayAll } from './helpers/replay';

let h: Harness;
beforeAll(async () => {
  h = await startHarness([mixedBilling]);
});
afterAll(() => h.close());

it('per-chunk: lanes with retried and failing targets replay to the same commands', async () => {
  const date = '2026-11-01';
  const { failing, billable } = await insertMixedSubscriptions(h.pool, 400);

  const summary = await (
    await h.tju.trigger('test.mixed-billing', { date }, { granularity: 'per-chunk', chunkSize: 50, chunkConcurrency: 8, window: 4 })
  ).result();

  expect(summary).toEqual({ total: 400, succeeded: billable.length, failed: failing.length, skipped: 0 });
  expect(await invoiceCounts(h.pool, date)).toMatchObject({ invoices: billable.length, duplicates: 0 });
  const failures = await listFailures(h.pool, { batch: 'test.mixed-billing', runKey: date });
  expect(failures.map((f) => f.targetKey).sort()).toEqual([...failing].sort());

  const { replayed, errors } = await replayAll(h, 'chunkJobWorkflow');
  expect(errors).toEqual([]);
  expect(replayed).toBe(8);
});
