import { issueInvoices } from '../examples/billing/batches/issue-invoices';
import { issueInvoice } from '../examples/billing/batches/issue-invoices/unit';
import { defineBatch } from '../src/batch';
import { defineUnit } from '../src/unit';

/** The billing unit as a regular activity limited to 50 calls a second across all workers. */
export const RATE_LIMIT = 50;
export const rateLimitedBilling = defineBatch({
  ...issueInvoices,
  name: 'bench.rate-limited-billing',
  unit: defineUnit({ ...issueInvoice, name: 'bench.rate-limited-issue-invoice', rateLimit: RATE_LIMIT }),
});
