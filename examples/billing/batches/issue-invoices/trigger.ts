import type { Db, PartitionRequest, TargetPage } from 'tju';

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
  { params, after, upTo, limit }: TargetPage<{ date: string }>,
): Promise<UnbilledSubscription[]> {
  const { rows } = await db.query<UnbilledSubscription>(
    `SELECT s.id::text AS key, s.payment_method
       FROM subscriptions s
      WHERE s.status = 'active'
        AND s.id > $1 AND s.id <= $4
        AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.subscription_id = s.id AND i.billing_date = $2)
      ORDER BY s.id
      LIMIT $3`,
    [after ?? 0, params.date, limit, upTo ?? '9223372036854775807'],
  );
  return rows;
}

/** Split keys for a partitioned run: quantiles of the active subscription ids. */
export async function splitSubscriptions(db: Db, { count }: PartitionRequest<{ date: string }>): Promise<string[]> {
  const fractions = Array.from({ length: count - 1 }, (_, i) => (i + 1) / count);
  const { rows } = await db.query<{ key: string }>(
    `SELECT DISTINCT split AS key
       FROM unnest((SELECT percentile_disc($1::float8[]) WITHIN GROUP (ORDER BY id)
                      FROM subscriptions WHERE status = 'active')) AS split
      ORDER BY split`,
    [fractions],
  );
  return rows.map((row) => String(row.key));
}
