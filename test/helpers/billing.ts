import type { Pool } from 'pg';

/** Inserts `active` active and `inactive` inactive subscriptions with a fee; returns the active ids. */
export async function insertSubscriptions(pool: Pool, active: number, inactive = 0): Promise<string[]> {
  await pool.query(
    `INSERT INTO subscriptions (customer, status, monthly_fee)
     SELECT 'inactive-' || g, 'inactive', 10 FROM generate_series(1, $1::int) g`,
    [inactive],
  );
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO subscriptions (customer, status, monthly_fee, payment_method)
     SELECT 'customer-' || g, 'active', 10 + g % 7, CASE WHEN g % 2 = 0 THEN 'card' ELSE 'bank_transfer' END
       FROM generate_series(1, $1::int) g
     RETURNING id`,
    [active],
  );
  return rows.map((r) => r.id);
}

export async function invoiceCounts(pool: Pool, date: string) {
  const { rows } = await pool.query<{ invoices: number; subscriptions: number; duplicates: number; inactive: number }>(
    `SELECT (SELECT count(*) FROM invoices WHERE billing_date = $1)::int AS invoices,
            (SELECT count(DISTINCT subscription_id) FROM invoices WHERE billing_date = $1)::int AS subscriptions,
            (SELECT count(*) FROM (SELECT 1 FROM invoices WHERE billing_date = $1
                                    GROUP BY subscription_id HAVING count(*) > 1) d)::int AS duplicates,
            (SELECT count(*) FROM invoices i JOIN subscriptions s ON s.id = i.subscription_id
              WHERE i.billing_date = $1 AND s.status <> 'active')::int AS inactive`,
    [date],
  );
  return rows[0];
}
