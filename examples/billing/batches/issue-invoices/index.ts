import { z } from 'zod';
import { dateParam, defineBatch } from 'tju';
import { selectUnbilledSubscriptions, splitSubscriptions } from './trigger';
import { issueInvoice } from './unit';

/** Bills every active subscription once per billing date. */
export const issueInvoices = defineBatch({
  name: 'billing.issue-invoices',
  description: 'Issue the monthly invoice of every active subscription for a billing date',
  params: z.object({ date: dateParam().describe('billing date, YYYY-MM-DD (default: today)') }),
  runKey: (params) => params.date,
  // Trigger: which targets this run still has to process.
  targets: selectUnbilledSubscriptions,
  partitionKeys: splitSubscriptions,
  // Job: one per subscription; carries its options to the unit, retries the unit on failure.
  job: {
    input: (subscription, params) => ({
      subscriptionId: subscription.key,
      billingDate: params.date,
      paymentMethod: subscription.payment_method,
    }),
    retry: { maximumAttempts: 3, initialInterval: '1s' },
    timeout: '30s',
  },
  // Unit: the business logic for one subscription, in one transaction.
  unit: issueInvoice,
  // Every night at 02:00 Tokyo time, for that day's date; never two runs at once.
  schedule: { cron: '0 2 * * *', timezone: 'Asia/Tokyo', overlap: 'skip' },
});
