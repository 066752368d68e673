// The client's params are typed by the batch's schema; names still work, as the CLI uses them. Checked by the
// compiler (`tsc` in npm test): a line marked @ts-expect-error that compiled would fail the build.
import type { TjuClient } from '../../src/temporal/client';
import { issueInvoices } from '../../examples/billing/batches/issue-invoices';

it("types a run's params by its batch", () => {
  const calls = (tju: TjuClient) => [
    tju.trigger(issueInvoices, { date: '2026-11-01' }),
    tju.trigger(issueInvoices, {}), // the date defaults to today
    // @ts-expect-error a date is a string
    tju.trigger(issueInvoices, { date: 20261101 }),
    // @ts-expect-error the batch has no such param
    tju.trigger(issueInvoices, { day: '2026-11-01' }),
    tju.trigger('billing.issue-invoices', { date: '2026-11-01', anything: 1 }),
    tju.status(issueInvoices, { date: '2026-11-01' }),
  ];
  expect(calls).toBeInstanceOf(Function);
});
