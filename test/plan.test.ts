// How a run is planned from a batch definition: params, run key, and the trigger's input.
import { issueInvoices } from '../examples/billing/batches/issue-invoices';
import { defineUnit } from '../src/definitions';
import { UserError } from '../src/errors';
import { buildTriggerInput, resolveRun, resolveScheduledRun } from '../src/plan';

it('merges the unit\'s own retry policy with the job\'s, the job winning field by field', () => {
  const unit = defineUnit({
    name: 'test.strict-unit',
    retry: { maximumAttempts: 7, maximumInterval: '10m', nonRetryableErrorTypes: ['CardDeclined'] },
    run: async () => undefined,
  });
  const batch = { ...issueInvoices, unit, job: { ...issueInvoices.job, retry: { maximumAttempts: 2 } } };
  const input = buildTriggerInput(resolveRun(batch, { date: '2026-11-01' }));
  expect(input.job.retry).toEqual({ maximumAttempts: 2, maximumInterval: '10m', nonRetryableErrorTypes: ['CardDeclined'] });
});

it('plans ordered batches as one target at a time, per-chunk with a window sized to unit slots', () => {
  const run = resolveRun(issueInvoices, { date: '2026-11-01' });
  expect(buildTriggerInput(run)).toMatchObject({ window: 100, runKey: '2026-11-01' });
  expect(buildTriggerInput(run).granularity).toBeUndefined(); // per-target
  expect(buildTriggerInput(run, { granularity: 'per-chunk' })).toMatchObject({ window: 8, granularity: 'per-chunk' });
  expect(buildTriggerInput(run, { window: undefined, chunkSize: undefined })).toMatchObject({ window: 100 });
  expect(buildTriggerInput(run, { ordered: true, window: 50, granularity: 'per-chunk' })).toMatchObject({
    window: 1,
    granularity: 'per-target',
  });
});

it('derives a scheduled run from its nominal time in the schedule\'s zone', () => {
  // 2026-10-31T17:00Z is 02:00 on 1 November in Tokyo.
  expect(resolveScheduledRun(issueInvoices, new Date('2026-10-31T17:00:00Z')).runKey).toBe('2026-11-01');
});

it('refuses unknown params and bad dates as user errors', () => {
  expect(() => resolveRun(issueInvoices, { date: '2026-11-01', extra: 1 })).toThrow(UserError);
  expect(() => resolveRun(issueInvoices, { date: '2026-11-31' })).toThrow('date: not a calendar date (got "2026-11-31")');
});
