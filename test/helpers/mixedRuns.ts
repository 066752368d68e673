import { listFailures } from '../../src/db/ledger';
import type { RunSummary } from '../../src/contracts/types';
import { invoiceCounts, ledgerCount } from './billing';
import type { Harness } from './harness';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the fault tests check of a run of the mixed batch (succeeding, retried and failing targets). */
export function mixedRuns(harness: () => Harness) {
  /** Waits until `atLeast` invoices exist for the date; tolerates the database being down meanwhile. */
  async function waitForInvoices(date: string, atLeast: number): Promise<void> {
    for (;;) {
      const invoices = await invoiceCounts(harness().pool, date).then(
        (c) => c.invoices,
        () => 0,
      );
      if (invoices >= atLeast) return;
      await sleep(100);
    }
  }

  /** Checks, by SQL, that a mixed run did each target's effect exactly once and recorded each failure once. */
  async function expectMixedRunEffects(date: string, summary: RunSummary, failing: string[], billable: string[]) {
    const { pool } = harness();
    expect(await invoiceCounts(pool, date)).toEqual({
      invoices: billable.length,
      subscriptions: billable.length,
      duplicates: 0,
      inactive: 0,
    });
    const failures = await listFailures(pool, { batch: 'test.mixed-billing', runKey: date });
    expect(failures.map((f) => f.targetKey).sort()).toEqual([...failing].sort());
    expect(await ledgerCount(pool, date)).toBe(billable.length);
    // Units that committed just before a fault run again and find their ledger entry: skipped, not doubled.
    expect(summary.total).toBe(billable.length + failing.length);
    expect(summary.failed).toBe(failing.length);
    expect(summary.succeeded + summary.skipped).toBe(billable.length);
  }

  return { waitForInvoices, expectMixedRunEffects };
}
