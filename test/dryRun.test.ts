// `tju plan`: what a run would do, read from the batch's own target query in a read-only transaction — and
// nothing started in Temporal, nothing written to PostgreSQL, whatever the batch's query tries.
import { z } from 'zod';
import { issueInvoices } from '../examples/billing/batches/issue-invoices';
import { processOrders } from '../examples/post-purchase/batches/process-orders';
import { applyShopSchema } from '../examples/post-purchase/schema';
import { seedOrders } from '../examples/post-purchase/demo/seed';
import { defineBatch, defineUnit } from '../src';
import { UserError } from '../src/errors';
import { planRun } from '../src/dryRun';
import { resolveRun } from '../src/plan';
import { TjuClient } from '../src/temporal/client';
import { insertNoFeeSubscriptions, insertSubscriptions } from './helpers/billing';
import { tju } from './helpers/cli';
import { startHarness, type Harness } from './helpers/harness';

let h: Harness;
let client: TjuClient;
beforeAll(async () => {
  h = await startHarness([issueInvoices, processOrders]);
  await applyShopSchema(h.pool);
  client = new TjuClient({ client: h.client, batches: [issueInvoices, processOrders], taskQueue: h.taskQueue, db: h.pool });
});
afterAll(() => h.close());

/** Every table's row count in tju's schema and the app's, and every workflow the namespace holds. */
async function everything() {
  const { rows } = await h.pool.query<{ t: string }>(
    `SELECT table_schema || '.' || table_name AS t FROM information_schema.tables
      WHERE table_schema IN ('tju', 'public') AND table_type = 'BASE TABLE' ORDER BY 1`,
  );
  const counts: Record<string, number> = {};
  for (const { t } of rows) counts[t] = (await h.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n;
  return { counts, workflows: (await h.client.workflow.count()).count };
}

it('says what a run would select, per step and partition, its Temporal cost and duration, and changes nothing', async () => {
  const date = '2026-11-25';
  await insertSubscriptions(h.pool, 9, 2);
  await insertNoFeeSubscriptions(h.pool, 1);
  const before = await everything();

  const text = await tju(['plan', 'billing.issue-invoices', '--date', date], h.env);
  expect(text).toMatchObject({ code: 0, stderr: '' });
  expect(text.stdout).toContain(`billing.issue-invoices ${date} (per-target): nothing started, nothing written`);
  expect(text.stdout).toContain('10 target(s) selected');
  expect(text.stdout).toContain('step billing.issue-invoice: 10 target(s)');
  expect(text.stdout).toContain('duration: no estimate (no finished run of billing.issue-invoices to take a pace from)');
  const plan = JSON.parse((await tju(['plan', 'billing.issue-invoices', '--date', date, '--json'], h.env)).stdout);
  expect(plan).toMatchObject({ selected: 10, refused: { count: 0 }, mode: 'per-target', temporal: { actions: 30, historyEvents: 93 } });
  // Partitioned as the run would be: the ranges' targets add up to the same.
  const parts = await client.plan(issueInvoices, { date }, { partitions: 2 });
  expect(parts.partitions).toHaveLength(2);
  expect(parts.partitions!.reduce((sum, p) => sum + p.targets, 0)).toBe(10);
  expect(await everything()).toEqual(before);

  // After a run, the plan of its key is what is left (the one that fails), at the run's pace.
  await (await client.trigger(issueInvoices, { date })).result();
  const after = await client.plan(issueInvoices, { date });
  expect(after.selected).toBe(1);
  expect(after.estimate).toMatchObject({ seconds: expect.any(Number), basis: 'the median pace of its last 1 finished run(s)' });
});

it("counts a chain's steps by their `when`, from the options each target carries", async () => {
  await seedOrders(h.pool, 20); // every 5th digital: not shipped
  const plan = await client.plan(processOrders, { date: '2099-01-01' });
  expect(plan.steps).toEqual([
    { unit: 'shop.issue-receipt', applies: 20 },
    { unit: 'shop.grant-points', applies: 20 },
    { unit: 'shop.request-shipping', applies: 16 },
    { unit: 'shop.queue-notification', applies: 20 },
  ]);
  // Each step of a per-target chain is an activity of its job: three more than one step, per target.
  expect(plan.temporal.actions).toBe(Math.round(20 * (3.008 + 3)));
});

it('counts the rows a run would refuse, with a few examples, instead of failing', async () => {
  // What a query with a bug returns: the types say every row has a key; the rows say otherwise.
  const rows = [{ key: 'a' }, { note: 'no key' }, { key: 'b' }, { key: 'b' }, { key: '' }] as unknown as Array<{ key: string }>;
  const sloppy = defineBatch({
    name: 'test.sloppy',
    params: z.object({}),
    runKey: () => 'once',
    targets: async (_db, { after }) => (after === null ? rows : []),
    job: { input: (t: { key: string }) => t },
    unit: defineUnit<{ key: string }>({ name: 'test.noop', run: async () => undefined }),
  });
  const plan = await planRun(h.pool, resolveRun(sloppy, {}));
  expect(plan.selected).toBe(2);
  expect(plan.refused).toEqual({
    count: 3,
    examples: ['a row without a key: {"note":"no key"}', 'key "b" twice in one page', 'a row without a key: {"key":""}'],
  });
});

it('runs the target query read-only: a query that writes fails, and writes nothing', async () => {
  const writing = defineBatch({
    name: 'test.writing-query',
    params: z.object({}),
    runKey: () => 'once',
    targets: async (db) =>
      (await db.query<{ key: string }>(`INSERT INTO members (customer, rank) VALUES ('sneaky', 'gold') RETURNING customer AS key`)).rows,
    job: { input: (t: { key: string }) => t },
    unit: defineUnit<{ key: string }>({ name: 'test.noop', run: async () => undefined }),
  });
  await expect(planRun(h.pool, resolveRun(writing, {}))).rejects.toThrow(/read-only transaction/);
  expect((await h.pool.query(`SELECT count(*)::int AS n FROM members WHERE customer = 'sneaky'`)).rows[0].n).toBe(0);
});

it("says a fair run's keys, its largest, and each key's bound", async () => {
  await insertSubscriptions(h.pool, 9); // payment methods in turn: card, bank, card, …
  const byMethod = defineBatch({
    ...issueInvoices,
    name: 'test.fair-invoices',
    job: { ...issueInvoices.job, fairnessKey: (s) => s.payment_method, maxInFlightPerKey: 4 },
  });
  const plan = await planRun(h.pool, resolveRun(byMethod, { date: '2099-02-01' }));
  expect(plan.fairness).toMatchObject({ keys: expect.any(Number), moreKeys: false, maxInFlightPerKey: 4 });
  expect(plan.fairness!.keys).toBeGreaterThan(1);
  expect(plan.fairness!.largest.targets).toBeLessThan(plan.selected);
  expect(plan.fairness!.largest.targets * plan.fairness!.keys).toBeGreaterThanOrEqual(plan.selected);
});

it('refuses to plan a fair run whose key function fails, in one line naming the batch and the target', async () => {
  await insertSubscriptions(h.pool, 2);
  const broken = defineBatch({
    ...issueInvoices,
    name: 'test.broken-fair-invoices',
    job: {
      ...issueInvoices.job,
      fairnessKey: () => {
        throw new Error('tenant unknown');
      },
    },
  });
  const plan = planRun(h.pool, resolveRun(broken, { date: '2099-02-01' }));
  await expect(plan).rejects.toBeInstanceOf(UserError);
  await expect(plan).rejects.toThrow(/^test\.broken-fair-invoices: job\.fairnessKey threw for target \S+: tenant unknown$/);
});
