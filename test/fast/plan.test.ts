// How a run is planned from a batch definition: params, run key, and the trigger's input.
import { issueInvoices } from '../../examples/billing/batches/issue-invoices';
import { z } from 'zod';
import { processOrders } from '../../examples/post-purchase/batches/process-orders';
import { defineUnit } from '../../src/unit';
import { defineBatch } from '../../src/batch';
import { unitQueuesOf } from '../../src/temporal/worker';
import { UserError } from '../../src/errors';
import { buildTriggerInput, resolveRun, resolveScheduledRun } from '../../src/plan';

it("merges the unit's own retry policy with the job's, the job winning field by field", () => {
  const unit = defineUnit({
    name: 'test.strict-unit',
    retry: { maximumAttempts: 7, maximumInterval: '10m', nonRetryableErrorTypes: ['CardDeclined'] },
    run: async () => undefined,
  });
  const batch = { ...issueInvoices, unit, job: { ...issueInvoices.job, retry: { maximumAttempts: 2 } } };
  const input = buildTriggerInput(resolveRun(batch, { date: '2026-11-01' }));
  // Every field resolved over tju's defaults, so Temporal and a bulk chunk read the same policy.
  expect(input.job.steps![0].retry).toEqual({
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumAttempts: 2,
    maximumInterval: '10m',
    nonRetryableErrorTypes: ['CardDeclined'],
  });
});

it('plans ordered batches as one target at a time, per-chunk with a window sized to unit slots', () => {
  const run = resolveRun(issueInvoices, { date: '2026-11-01' });
  expect(buildTriggerInput(run)).toMatchObject({ window: 100, runKey: '2026-11-01', granularity: 'per-target' });
  expect(buildTriggerInput(run, { granularity: 'per-chunk' })).toMatchObject({
    window: 8,
    granularity: 'per-chunk',
    chunkSize: 500,
    chunkConcurrency: 10,
  });
  expect(buildTriggerInput(run, { granularity: 'bulk' })).toMatchObject({
    window: 2,
    granularity: 'bulk',
    pageSize: 10000,
    chunkSize: 2000,
    chunkConcurrency: 10,
  });
  expect(buildTriggerInput(run, { window: undefined, chunkSize: undefined })).toMatchObject({ window: 100 });
  expect(buildTriggerInput(run, { ordered: true, window: 50, granularity: 'per-chunk' })).toMatchObject({
    window: 1,
    granularity: 'per-target',
  });
});

it('refuses trigger settings no run can work with, in one line', () => {
  const run = resolveRun(issueInvoices, { date: '2026-11-01' });
  expect(() => buildTriggerInput(run, { window: 5000 })).toThrow(
    'billing.issue-invoices: window must be at most 1000 (got 5000); use partitions for more',
  );
  expect(() => buildTriggerInput(run, { chunkSize: 0, granularity: 'per-chunk' })).toThrow(
    'chunkSize must be a whole number of at least 1 (got 0)',
  );
  expect(() => buildTriggerInput(run, { maxFailureRatio: 2 })).toThrow('maxFailureRatio must be above 0 and at most 1 (got 2)');
});

it("derives a scheduled run from its nominal time in the schedule's zone", () => {
  // 2026-10-31T17:00Z is 02:00 on 1 November in Tokyo.
  expect(resolveScheduledRun(issueInvoices, new Date('2026-10-31T17:00:00Z')).runKey).toBe('2026-11-01');
});

it('refuses unknown params and bad dates as user errors', () => {
  expect(() => resolveRun(issueInvoices, { date: '2026-11-01', extra: 1 })).toThrow(UserError);
  expect(() => resolveRun(issueInvoices, { date: '2026-11-31' })).toThrow('date: not a calendar date (got "2026-11-31")');
});

it('plans every job as a chain, each step with its resolved policy, timeout and way of running', () => {
  const run = resolveRun(processOrders, { date: '2026-11-01' });
  const { job } = buildTriggerInput(run);
  const defaults = { retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 3 }, timeout: '1m' };
  expect(job).toEqual({
    steps: [
      { unit: 'shop.issue-receipt', ...defaults },
      { unit: 'shop.grant-points', ...defaults },
      {
        unit: 'shop.request-shipping',
        retry: { maximumAttempts: 5, initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s' },
        timeout: '30s',
        regular: true,
        ownQueue: true,
      },
      { unit: 'shop.queue-notification', ...defaults },
    ],
  });
  // A batch of one unit is a chain of one, with the batch's job.retry and job.timeout over the unit's.
  expect(buildTriggerInput(resolveRun(issueInvoices, { date: '2026-11-01' })).job).toEqual({
    steps: [{ unit: 'billing.issue-invoice', retry: { ...defaults.retry, maximumAttempts: 3, initialInterval: '1s' }, timeout: '30s' }],
  });
  expect(unitQueuesOf([processOrders], 'tju')).toEqual([{ taskQueue: 'tju.shop.request-shipping', rateLimit: 50 }]);
  expect(unitQueuesOf([processOrders], 'other', 'tju')).toEqual([]); // its jobs do not run there
});

it('refuses a batch with both unit and steps, neither, a unit twice, or a bad rate limit', () => {
  const unit = defineUnit({ name: 'test.u', run: async () => undefined });
  const base = { name: 'test.b', params: z.object({}), runKey: () => 'k', targets: async () => [], job: { input: () => ({}) } };
  expect(() => defineBatch({ ...base, unit, steps: [unit] })).toThrow('give either unit or steps');
  expect(() => defineBatch({ ...base })).toThrow('give either unit or steps');
  expect(() => defineBatch({ ...base, steps: [] })).toThrow('steps is empty');
  expect(() => defineBatch({ ...base, steps: [unit, { unit }] })).toThrow('a unit appears twice');
  expect(() => defineBatch({ ...base, unit: defineUnit({ ...unit, rateLimit: 0 }) })).toThrow('rateLimit must be a positive');
});

it('plans bulk runs with their own defaults, and refuses bulk for a batch whose unit needs an activity of its own', () => {
  expect(buildTriggerInput(resolveRun(issueInvoices, { date: '2026-11-01' }), { granularity: 'bulk' })).toMatchObject({
    granularity: 'bulk',
    window: 2,
    pageSize: 10000,
    chunkSize: 2000,
    chunkConcurrency: 10,
  });
  expect(() => buildTriggerInput(resolveRun(processOrders, { date: '2026-11-01' }), { granularity: 'bulk' })).toThrow(
    'shop.request-shipping runs as an activity of its own',
  );
});

it('plans a fair run from job.fairnessKey, its bound defaulting to the window, and refuses what it cannot do', () => {
  const fair = (job: object) => ({ ...issueInvoices, job: { ...issueInvoices.job, ...job } });
  const run = (job: object) => resolveRun(fair(job), { date: '2026-11-01' });
  const byMethod = { fairnessKey: (s: { payment_method: string }) => s.payment_method };
  expect(buildTriggerInput(run(byMethod)).fairness).toEqual({ maxInFlightPerKey: 100 });
  expect(buildTriggerInput(run({ ...byMethod, maxInFlightPerKey: 5 }), { window: 20 }).fairness).toEqual({ maxInFlightPerKey: 5 });
  expect(buildTriggerInput(run({})).fairness).toBeUndefined();
  expect(() => buildTriggerInput(run({ maxInFlightPerKey: 5 }))).toThrow(
    'billing.issue-invoices: job.maxInFlightPerKey needs job.fairnessKey',
  );
  expect(() => buildTriggerInput(run({ ...byMethod, maxInFlightPerKey: 0 }))).toThrow(
    'job.maxInFlightPerKey must be a whole number of at least 1 (got 0)',
  );
  expect(() => buildTriggerInput(run(byMethod), { partitions: 4 })).toThrow('a fair run takes its targets from one queue by key');
  const unit = defineUnit({ name: 'test.u', run: async () => undefined });
  const base = { name: 'test.b', params: z.object({}), runKey: () => 'k', targets: async () => [], job: { input: () => ({}) }, unit };
  expect(() => defineBatch({ ...base, priority: 0 })).toThrow('priority must be a whole number from 1 (first) to 5 (got 0)');
  expect(() => defineBatch({ ...base, priority: 2.5 })).toThrow('priority must be');
  expect(defineBatch({ ...base, priority: 1 }).priority).toBe(1);
});
