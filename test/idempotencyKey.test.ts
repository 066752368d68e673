// The idempotency key names the effect, not the run: a target that a later run selects again (its step failed
// after the external call) is called with the same key, and a worker killed between the call and the commit
// calls again with it too. The stand-in carrier deduplicates by key, as payment and shipping APIs do.
import { startShippingService, type ShippingService } from '../examples/post-purchase/shipping/server';
import { listFailures } from '../src/db/ledger';
import { applyThingsSchema, effectsOf, insertThings, shippedThings } from './fixtures/things';
import { startHarness, type Harness } from './helpers/harness';
import { startWorkerProcess, type WorkerProcess } from './helpers/workerProcess';

let h: Harness;
let carrier: ShippingService;
beforeAll(async () => {
  carrier = await startShippingService({ delayMs: 5 });
  h = await startHarness([shippedThings], { worker: false });
  await applyThingsSchema(h.pool);
});
afterAll(async () => {
  await h.close();
  await carrier.close();
});

it('calls the carrier with one key per thing across two run keys and a SIGKILL between the call and the commit', async () => {
  await insertThings(h.pool, [
    { key: 'plain' },
    { key: 'jams', failAfterCall: true }, // fails after the call on every run
    { key: 'crash', crashAfterCall: true }, // kills its worker after the call, once
    { key: 'a/b c' },
  ]);
  const env = { CARRIER_URL: carrier.url, THINGS_CRASH_ID: `${process.pid}-${Date.now()}` };
  let worker: WorkerProcess = await startWorkerProcess(h, env);
  // The worker that dies is replaced, as its supervisor would.
  let stopped = false;
  const supervise = (async () => {
    while (!stopped) {
      await worker.exited();
      if (!stopped) worker = await startWorkerProcess(h, env);
    }
  })();
  try {
    const first = await (await h.tju.trigger('test.shipped-things', { date: '2026-11-01' })).result();
    // A unit that committed just before the kill runs again and finds its ledger row: skipped, not doubled.
    expect(first).toMatchObject({ total: 4, failed: 1 });
    expect(first.succeeded + first.skipped).toBe(3);
    // The next day selects the thing that failed after its call again, under a new run key.
    const second = await (await h.tju.trigger('test.shipped-things', { date: '2026-11-02' })).result();
    expect(second).toMatchObject({ total: 1, failed: 1 });
  } finally {
    stopped = true;
    await worker.kill('SIGTERM');
    await supervise;
  }

  // One key per thing at the carrier, though `jams` was called on both days and `crash` twice on one.
  const keys = [...carrier.accepted.keys()];
  expect(keys.sort()).toEqual(['a/b c', 'crash', 'jams', 'plain'].map((key) => `test.shipped-things/${key}/test.ship-thing`).sort());
  // At least `jams` on its second day and `crash` after its worker died came again (units in flight beside
  // `crash` when it died may have too); each repeat got the first answer.
  expect(carrier.stats().accepted).toBe(4);
  expect(carrier.stats().deduplicated).toBeGreaterThanOrEqual(2);
  expect(Object.fromEntries(await effectsOf(h.pool))).toEqual({ plain: 1, crash: 1, 'a/b c': 1 });
  expect((await listFailures(h.pool, { batch: 'test.shipped-things', runKey: '2026-11-02' })).map((f) => f.targetKey)).toEqual(['jams']);
}, 180_000);
