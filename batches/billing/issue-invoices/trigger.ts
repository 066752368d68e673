import type { Db, TargetPage } from '../../../src';

export interface UnbilledSubscription {
  key: string;
  payment_method: string;
}

/**
 * Trigger's query: active subscriptions with no invoice for the billing date yet, one keyset page in id
 * order. Each row carries the subscription's own options (its payment method) to its job.
 */
export async function selectUnbilledSubscriptions(
  db: Db,
  { params, after, limit }: TargetPage<{ date: string }>,
): Promise<UnbilledSubscription[]> {
  const { rows } = await db.query<UnbilledSubscription>(
    `SELECT s.id::text AS key, s.payment_method
       FROM subscriptions s
      WHERE s.status = 'active'
        AND s.id > $1
        AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.subscription_id = s.id AND i.billing_date = $2)
      ORDER BY s.id
      LIMIT $3`,
    [after ?? 0, params.date, limit],
  );
  return rows;
}
