import { z } from 'zod';
import { dateParam, defineBatch } from 'tju';
import { selectOrdersToProcess } from './trigger';
import { grantPoints, issueReceipt, queueNotification, requestShipping, type OrderInput } from './units';

/**
 * The seed's post-purchase processing: for every completed order, issue the receipt, grant points, request
 * shipping and queue the notification — each step its own transaction and ledger entry, in order. The
 * order's options (carried from the trigger) decide which steps run and how.
 */
export const processOrders = defineBatch({
  name: 'shop.process-orders',
  description: 'Post-process the orders completed by a date: receipt, points, shipping, notification',
  params: z.object({ date: dateParam().describe('orders completed up to this date, YYYY-MM-DD (default: today)') }),
  runKey: (params) => params.date,
  targets: selectOrdersToProcess,
  job: {
    input: (order): OrderInput => ({
      orderId: order.key,
      paymentMethod: order.payment_method,
      shippingType: order.shipping_type,
      isFirstPurchase: order.is_first_purchase,
      campaignId: order.campaign_id,
      memberRank: order.member_rank,
    }),
  },
  // The chain: a step that gives up stops the order's chain; `tju retry` resumes at that step.
  steps: [issueReceipt, grantPoints, { unit: requestShipping, when: (order) => order.shippingType !== 'digital' }, queueNotification],
});
