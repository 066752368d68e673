// Temporal Schedules from code: apply, pause, backfill over past dates, prune.
import { issueInvoices } from '../examples/billing/batches/issue-invoices';
import { TjuSchedules } from '../src/temporal/schedules';
import { startHarness, type Harness } from './helpers/harness';
import { insertSubscriptions, invoiceCounts } from './helpers/billing';
import { tju } from './helpers/cli';

let h: Harness;
let schedules: TjuSchedules;
beforeAll(async () => {
  h = await startHarness([issueInvoices]);
  schedules = new TjuSchedules(h.client, [issueInvoices], h.taskQueue);
  await insertSubscriptions(h.pool, 15, 2);
});
afterAll(async () => {
  await h.client.schedule
    .getHandle('billing.issue-invoices')
    .delete()
    .catch(() => undefined);
  await h.close();
});

it('creates the declared schedule, then updates it in place on the next apply', async () => {
  expect(await schedules.apply()).toEqual([{ batch: 'billing.issue-invoices', change: 'created' }]);
  await schedules.pause('billing.issue-invoices', 'maintenance window');
  expect(await schedules.apply()).toEqual([{ batch: 'billing.issue-invoices', change: 'updated' }]);

  const [summary] = await schedules.list();
  // An update keeps the schedule's state.
  expect(summary).toMatchObject({ batch: 'billing.issue-invoices', paused: true, note: 'maintenance window' });
  expect(summary.cron).toEqual(['0 2 * * *']);
  expect(summary.timezone).toBe('Asia/Tokyo');

  await schedules.unpause('billing.issue-invoices');
  const after = await schedules.describe('billing.issue-invoices');
  expect(after.paused).toBe(false);
  // 02:00 in Tokyo is 17:00 UTC the day before.
  expect(after.nextRuns[0].toISOString()).toMatch(/T17:00:00\.000Z$/);
});

it('bills each backfilled day for its own scheduled date, not the day it ran', async () => {
  await schedules.backfill(
    'billing.issue-invoices',
    new Date('2026-09-30T15:00:00Z'), // 2026-10-01 00:00 in Tokyo
    new Date('2026-10-03T15:00:00Z'), // 2026-10-04 00:00 in Tokyo
  );
  for (const date of ['2026-10-01', '2026-10-02', '2026-10-03']) {
    const run = await waitForRun(date);
    expect(run).toMatchObject({ workflowId: `billing.issue-invoices/${date}`, state: 'COMPLETED' });
    expect(run.counts).toMatchObject({ total: 15, succeeded: 15, failed: 0 });
    expect(await invoiceCounts(h.pool, date)).toMatchObject({ invoices: 15, duplicates: 0 });
  }
  expect(await invoiceCounts(h.pool, '2026-10-04')).toMatchObject({ invoices: 0 });
});

it('prunes a tju schedule whose batch no longer declares one', async () => {
  const unscheduled = { ...issueInvoices, schedule: undefined };
  const pruner = new TjuSchedules(h.client, [unscheduled], h.taskQueue);
  expect(await pruner.apply({ prune: true })).toEqual([{ batch: 'billing.issue-invoices', change: 'deleted' }]);
  await expect(h.client.schedule.getHandle('billing.issue-invoices').describe()).rejects.toThrow();
});

it('refuses bad backfill dates in one line', async () => {
  const env = h.env;
  const reversed = await tju(['schedule', 'backfill', 'billing.issue-invoices', '--from', '2026-10-05', '--to', '2026-10-04'], env);
  expect(reversed).toMatchObject({ code: 2, stderr: 'tju: --to 2026-10-04 is before --from 2026-10-05\n' });
  const malformed = await tju(['schedule', 'backfill', 'billing.issue-invoices', '--from', '2026-1-5', '--to', '2026-10-04'], env);
  expect(malformed).toMatchObject({ code: 2, stderr: expect.stringMatching(/^tju: --from: expected a date as YYYY-MM-DD/) });
  const unknown = await tju(['schedule', 'pause', 'billing.nope'], env);
  expect(unknown).toMatchObject({ code: 2, stderr: expect.stringMatching(/^tju: unknown batch "billing.nope"/) });
});

async function waitForRun(date: string) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const run = await h.tju.status('billing.issue-invoices', { date }).catch(() => undefined);
    if (run?.state === 'COMPLETED' || Date.now() > deadline) return run!;
    await new Promise((r) => setTimeout(r, 250));
  }
}

it("applies, lists, pauses and triggers through the CLI; a triggered run bills today in the schedule's zone", async () => {
  const env = h.env;
  expect(await tju(['schedule', 'apply'], env)).toMatchObject({ code: 0, stdout: 'created billing.issue-invoices\n' });
  expect(await tju(['schedule', 'pause', 'billing.issue-invoices', '--note', 'month-end freeze'], env)).toMatchObject({ code: 0 });
  const listed = await tju(['schedule', 'list'], env);
  expect(listed.stdout).toMatch(/^billing\.issue-invoices {2}0 2 \* \* \* Asia\/Tokyo {2}paused \(month-end freeze\)\n {2}next: /);
  const [asJson] = JSON.parse((await tju(['schedule', 'list', '--json'], env)).stdout);
  expect(asJson).toMatchObject({
    batch: 'billing.issue-invoices',
    cron: ['0 2 * * *'],
    timezone: 'Asia/Tokyo',
    paused: true,
    note: 'month-end freeze',
  });
  expect(await tju(['schedule', 'unpause', 'billing.issue-invoices'], env)).toMatchObject({ code: 0 });

  expect(await tju(['schedule', 'trigger', 'billing.issue-invoices'], env)).toMatchObject({ code: 0 });
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Tokyo' }).format(new Date());
  const run = await waitForRun(today);
  expect(run).toMatchObject({ state: 'COMPLETED', counts: { total: 15, succeeded: 15 } });
  expect((await tju(['schedule', 'list'], env)).stdout).toContain(`ran:  `);
});
