import type { Pool } from 'pg';

/**
 * Replaces all shop data with `n` orders of every kind: every 5th digital (no shipping), every 3rd other
 * express, payment methods in turn, every 4th a first purchase, every 6th in the `autumn` campaign (points ×2)
 * and every 10th in `vip` (×1.5), every 7th customer a gold member (points ×2) and every 4th silver (×1.5), every 50th still pending (not post-processed), and every 97th physical
 * order without a postal code, which the carrier refuses. Deterministic, so runs compare.
 */
export async function seedOrders(pool: Pool, n: number): Promise<{ completed: number; unshippable: number }> {
  await pool.query(`TRUNCATE notifications, shipments, point_grants, receipts, orders, campaigns, members, tju.ledger, tju.failures,
    tju.run_history RESTART IDENTITY CASCADE`);
  // Every 7th customer a gold member, every 4th of the rest silver; the others regular (no member row).
  await pool.query(
    `INSERT INTO members (customer, rank)
     SELECT 'customer-' || g, CASE WHEN g % 7 = 0 THEN 'gold' ELSE 'silver' END FROM generate_series(1, $1::int) AS g
      WHERE g % 7 = 0 OR g % 4 = 1`,
    [n],
  );
  await pool.query(`INSERT INTO campaigns (id, points_multiplier) VALUES ('autumn', 2), ('vip', 1.5)`);
  await pool.query(
    `INSERT INTO orders (customer, email, status, amount, payment_method, shipping_type, postal_code,
                         is_first_purchase, campaign_id, completed_at)
     SELECT 'customer-' || g, 'customer-' || g || '@example.com',
            CASE WHEN g % 50 = 0 THEN 'pending' ELSE 'completed' END,
            1000 + (g * 137) % 20000,
            (ARRAY['card', 'bank-transfer', 'convenience-store'])[1 + g % 3],
            kind.shipping,
            CASE WHEN kind.shipping = 'digital' OR g % 97 = 0 THEN NULL ELSE '100-000' || (g % 10) END,
            g % 4 = 0,
            CASE WHEN g % 6 = 0 THEN 'autumn' WHEN g % 10 = 0 THEN 'vip' END,
            CASE WHEN g % 50 = 0 THEN NULL ELSE now() - interval '1 hour' END
       FROM generate_series(1, $1::int) AS g,
            LATERAL (SELECT CASE WHEN g % 5 = 0 THEN 'digital' WHEN g % 3 = 0 THEN 'express' ELSE 'standard' END AS shipping) AS kind`,
    [n],
  );
  const { rows } = await pool.query<{ completed: number; unshippable: number }>(
    `SELECT count(*) FILTER (WHERE status = 'completed')::int AS completed,
            count(*) FILTER (WHERE status = 'completed' AND shipping_type <> 'digital' AND postal_code IS NULL)::int AS unshippable
       FROM orders`,
  );
  return rows[0];
}
