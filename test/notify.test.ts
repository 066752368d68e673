// Failure notifications: a webhook hook posts each failed target and each run with failures as JSON.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { webhook, type FailureEvent } from '../src/hooks';
import { flakyBilling } from './fixtures/batches';
import { startHarness, type Harness } from './helpers/harness';
import { insertSubscriptions } from './helpers/billing';
import { until } from './helpers/wait';
import { NonRetryableError } from '../src/errors';

let h: Harness;
let server: http.Server;
const accepted: FailureEvent[] = [];
let refusedOnce = false;
let refusingCalls = 0;

/** Its onComplete hook says no retry can help: it is called once, not ten times. */
const refusingHook = {
  ...flakyBilling,
  name: 'test.refusing-hook',
  onComplete() {
    refusingCalls++;
    throw new NonRetryableError('the report service refuses runs of this batch');
  },
};

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      // The receiver fails its first request: the event must come again.
      if (!refusedOnce) {
        refusedOnce = true;
        res.writeHead(500).end();
        return;
      }
      accepted.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tju-events`;
  h = await startHarness([{ ...flakyBilling, onFailure: webhook(url) }, refusingHook]);
});
afterAll(async () => {
  await h.close();
  await new Promise((resolve) => server.close(resolve));
});

it('posts one event per failed target and one for the run, retrying a refused post after the run', async () => {
  await insertSubscriptions(h.pool, 5);
  const { rows } = await h.pool.query(
    `INSERT INTO subscriptions (customer, status, monthly_fee) VALUES ('broken-a', 'active', 1), ('broken-b', 'active', 1)
     RETURNING id`,
  );
  const date = '2026-11-01';
  const summary = await (await h.tju.trigger('test.flaky-billing', { date })).result();
  expect(summary).toEqual({ total: 7, succeeded: 5, failed: 2, skipped: 0 });

  // The worker posts them apart from the run, the refused one again a second later.
  for (let i = 0; i < 100 && accepted.length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  expect(refusedOnce).toBe(true);
  const targets = accepted.filter((e) => e.kind === 'target-failed');
  expect(targets.map((e) => e.kind === 'target-failed' && e.targetKey).sort()).toEqual(rows.map((r) => r.id).sort());
  expect(targets[0]).toMatchObject({
    batch: 'test.flaky-billing',
    runKey: date,
    errorType: 'Error',
    error: 'payment gateway rejected the card',
    attempts: 3,
    nonRetryable: false,
  });
  expect(accepted.filter((e) => e.kind === 'run-failed')).toEqual([
    {
      kind: 'run-failed',
      batch: 'test.flaky-billing',
      runKey: date,
      workflowId: `test.flaky-billing/${date}`,
      summary: { total: 7, succeeded: 5, failed: 2, skipped: 0 },
    },
  ]);
});

it("gives a hook up at once when it throws NonRetryableError, as a unit's retry policy would", async () => {
  await (await h.tju.trigger('test.refusing-hook', { date: '2026-11-02' })).result();
  const events = async () =>
    (
      await h.pool.query<{ state: string; attempts: number }>(
        `SELECT state, attempts FROM tju.hook_events WHERE batch = 'test.refusing-hook'`,
      )
    ).rows;
  expect(await until(events, (rows) => rows.some((row) => row.state !== 'pending'), 'the hook event')).toEqual([
    { state: 'gave-up', attempts: 1 },
  ]);
  expect(refusingCalls).toBe(1);
});
