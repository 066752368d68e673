// What travels beside a failure or a heartbeat: encoded and decoded in one module, checked on the way in.
import { bulkProgress, targetFailedDetails, unitFailureDetails } from '../../src/contracts/details';

it('round-trips a unit failure and a target failure, and reads what an older job sent', () => {
  expect(unitFailureDetails.decode(unitFailureDetails.encode({ attempt: 3, unit: 'u' }))).toEqual({ attempt: 3, unit: 'u' });
  expect(unitFailureDetails.decode(undefined)).toEqual({});
  expect(unitFailureDetails.decode([{ attempt: 'three' }])).toEqual({});
  const failure = { targetKey: 'a' } as never;
  expect(targetFailedDetails.decode(targetFailedDetails.encode({ failure, steps: { u: 'failed' } }))).toEqual({
    failure,
    steps: { u: 'failed' },
  });
  // A job of a single unit sent its failure alone.
  expect(targetFailedDetails.decode([failure])).toEqual({ failure });
});

it("reads a bulk chunk's resume point, and nothing from details of another shape (a unit's own heartbeat)", () => {
  const progress = { next: 25, counts: { succeeded: 20, failed: 5, skipped: 0 }, ahead: { 29: { u: 'succeeded' as const } } };
  expect(bulkProgress.decode(bulkProgress.encode(progress))).toEqual(progress);
  expect(bulkProgress.decode({ subscription: '4' })).toBeUndefined();
  expect(bulkProgress.decode(undefined)).toBeUndefined();
  expect(bulkProgress.decode({ next: 1, counts: { succeeded: 1 }, ahead: {} })).toBeUndefined();
});
