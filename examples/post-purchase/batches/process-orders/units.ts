import { defineUnit, NonRetryableError, type Db } from 'tju';

/** What the job hands each step for one order: the order's options, carried from the trigger. */
export interface OrderInput {
  orderId: string;
  paymentMethod: string;
  shippingType: 'standard' | 'express' | 'digital';
  isFirstPurchase: boolean;
  campaignId: string | null;
  memberRank: 'regular' | 'silver' | 'gold';
}

/** How many points a member's purchase earns per 100 of its amount, by rank. */
const RANK_RATE: Record<OrderInput['memberRank'], number> = { regular: 1, silver: 1.5, gold: 2 };

interface Order {
  amount: string;
  email: string;
  postal_code: string | null;
}

/** Locks the order, so two runs for it queue up; a missing order is a mistake no retry fixes. */
async function lockOrder(tx: Db, orderId: string): Promise<Order> {
  const { rows } = await tx.query<Order>('SELECT amount, email, postal_code FROM orders WHERE id = $1 FOR UPDATE', [orderId]);
  if (rows.length === 0) throw new NonRetryableError(`order ${orderId} does not exist`);
  return rows[0];
}

/** Step 1: the receipt, numbered by payment method (bank transfers get their own series). */
export const issueReceipt = defineUnit<OrderInput>({
  name: 'shop.issue-receipt',
  async run(tx, { orderId, paymentMethod }) {
    const order = await lockOrder(tx, orderId);
    if ((await tx.query('SELECT 1 FROM receipts WHERE order_id = $1', [orderId])).rowCount) return 'skipped';
    const series = paymentMethod === 'bank-transfer' ? 'BT' : 'R';
    await tx.query('INSERT INTO receipts (order_id, number, amount) VALUES ($1, $2, $3)', [
      orderId,
      `${series}-${orderId.padStart(8, '0')}`,
      order.amount,
    ]);
  },
});

/**
 * Points: 1 per 100 of the amount times the member's rank rate, a 500-point bonus on a first purchase, times the
 * campaign's multiplier. The rank is the one the run selected the order with (a target option), so a retry
 * grants what the first attempt would have.
 */
export const grantPoints = defineUnit<OrderInput>({
  name: 'shop.grant-points',
  async run(tx, { orderId, isFirstPurchase, campaignId, memberRank }) {
    const order = await lockOrder(tx, orderId);
    if ((await tx.query('SELECT 1 FROM point_grants WHERE order_id = $1', [orderId])).rowCount) return 'skipped';
    const rate = RANK_RATE[memberRank] ?? RANK_RATE.regular;
    let points = Math.floor((Number(order.amount) / 100) * rate);
    const reasons = ['purchase'];
    if (rate !== RANK_RATE.regular) reasons.push(`${memberRank} member`);
    if (isFirstPurchase) {
      points += 500;
      reasons.push('first purchase');
    }
    if (campaignId) {
      const { rows } = await tx.query<{ points_multiplier: string }>('SELECT points_multiplier FROM campaigns WHERE id = $1', [campaignId]);
      if (rows.length === 0) throw new NonRetryableError(`campaign ${campaignId} does not exist`);
      points = Math.round(points * Number(rows[0].points_multiplier));
      reasons.push(`campaign ${campaignId}`);
    }
    await tx.query('INSERT INTO point_grants (order_id, points, reason) VALUES ($1, $2, $3)', [orderId, points, reasons.join(', ')]);
  },
});

/** Where the shipping service answers; the demo and tests start a local one. */
export const shippingUrl = () => process.env.SHIPPING_URL ?? 'http://127.0.0.1:4010';

/**
 * Step 3: ask the carrier to ship, over HTTP. The idempotency key names the effect — this order's shipment —
 * so it is the same for every attempt, crash and run that selects the order again (its step failed after the
 * call yesterday): the carrier answers a repeated request with its first answer instead of shipping twice.
 * A regular activity (not a local one): a slow call with its own timeout, on a task queue limited to 50 calls
 * a second across all workers.
 */
export const requestShipping = defineUnit<OrderInput>({
  name: 'shop.request-shipping',
  idempotencyKey: (order) => `shipment/${order.orderId}`,
  activity: 'regular',
  rateLimit: 50,
  timeout: '30s',
  retry: { maximumAttempts: 5, initialInterval: '200ms', maximumInterval: '5s' },
  // A carrier that is down is asked again every five minutes by one order, not by every order five times.
  breaker: { failures: 10, within: '1m', coolOff: '5m' },
  async run(tx, { orderId, shippingType }, { idempotencyKey }) {
    const order = await lockOrder(tx, orderId);
    if ((await tx.query('SELECT 1 FROM shipments WHERE order_id = $1', [orderId])).rowCount) return 'skipped';
    const response = await fetch(`${shippingUrl()}/shipments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
      body: JSON.stringify({ orderId, shippingType, postalCode: order.postal_code }),
      signal: AbortSignal.timeout(10_000),
    });
    const answer = (await response.json()) as { trackingNumber?: string; error?: string };
    // 4xx: this request will never succeed as it is; 5xx: the carrier may take it on a later attempt.
    if (response.status >= 400 && response.status < 500) throw new NonRetryableError(`carrier refused order ${orderId}: ${answer.error}`);
    if (!response.ok) throw new Error(`carrier answered ${response.status}: ${answer.error}`);
    await tx.query('INSERT INTO shipments (order_id, shipping_type, tracking_number) VALUES ($1, $2, $3)', [
      orderId,
      shippingType,
      answer.trackingNumber,
    ]);
  },
});

/** Last step: queue the confirmation e-mail in the outbox and mark the order post-processed. */
export const queueNotification = defineUnit<OrderInput>({
  name: 'shop.queue-notification',
  async run(tx, { orderId, shippingType }) {
    const order = await lockOrder(tx, orderId);
    const shipment = await tx.query<{ tracking_number: string }>('SELECT tracking_number FROM shipments WHERE order_id = $1', [orderId]);
    const queued = await tx.query(
      `INSERT INTO notifications (order_id, kind, recipient, payload) VALUES ($1, 'order-processed', $2, $3)
       ON CONFLICT (order_id, kind) DO NOTHING`,
      [orderId, order.email, { shippingType, trackingNumber: shipment.rows[0]?.tracking_number ?? null }],
    );
    await tx.query('UPDATE orders SET post_processed_at = now() WHERE id = $1', [orderId]);
    return queued.rowCount ? 'succeeded' : 'skipped';
  },
});
