import type { Db, TargetPage } from 'tju';

/** A completed order with the options that decide its post-processing. */
export interface CompletedOrder {
  key: string;
  payment_method: string;
  shipping_type: 'standard' | 'express' | 'digital';
  is_first_purchase: boolean;
  campaign_id: string | null;
  /** The customer's rank when the run selects the order (no member row: regular). */
  member_rank: 'regular' | 'silver' | 'gold';
}

/**
 * Trigger: completed orders not yet post-processed, completed before the end of the run's date, keyset
 * paged by id. The last step sets `post_processed_at`, so a finished order leaves this query.
 */
export async function selectOrdersToProcess(
  db: Db,
  { params, after, upTo, limit }: TargetPage<{ date: string }>,
): Promise<CompletedOrder[]> {
  const { rows } = await db.query<CompletedOrder>(
    `SELECT o.id::text AS key, o.payment_method, o.shipping_type, o.is_first_purchase, o.campaign_id,
            coalesce(m.rank, 'regular') AS member_rank
       FROM orders o LEFT JOIN members m ON m.customer = o.customer
      WHERE o.status = 'completed' AND o.post_processed_at IS NULL
        AND o.completed_at < ($2::date + 1)
        AND o.id > $1 AND o.id <= $4
      ORDER BY o.id
      LIMIT $3`,
    [after ?? 0, params.date, limit, upTo ?? '9223372036854775807'],
  );
  return rows;
}
