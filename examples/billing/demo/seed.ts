import type { Pool } from 'pg';

export interface SeedCounts {
  active: number;
  inactive: number;
  /** Active subscriptions with no monthly fee: their unit always fails. */
  broken: number;
}

/**
 * Replaces all billing data with `n` subscriptions: every `inactiveEvery`th inactive (default 50), every
 * `brokenEvery`th active one with no monthly fee (default 199; a data error the unit refuses), the rest
 * active. 0 turns either off. Deterministic, so runs compare.
 */
export async function seedSubscriptions(pool: Pool, n: number, { inactiveEvery = 50, brokenEvery = 199 } = {}): Promise<SeedCounts> {
  await pool.query('TRUNCATE invoices, subscriptions, tju.ledger, tju.failures RESTART IDENTITY CASCADE');
  await pool.query(
    `INSERT INTO subscriptions (customer, status, monthly_fee, payment_method)
     SELECT 'customer-' || g,
            CASE WHEN inactive THEN 'inactive' ELSE 'active' END,
            CASE WHEN broken AND NOT inactive THEN NULL ELSE (500 + (g * 37) % 9500) / 100.0 END,
            (ARRAY['card', 'bank_transfer', 'invoice'])[1 + g % 3]
       FROM generate_series(1, $1::int) AS g,
            LATERAL (SELECT coalesce(g % nullif($2::int, 0) = 0, false) AS inactive,
                            coalesce(g % nullif($3::int, 0) = 0, false) AS broken) AS kind`,
    [n, inactiveEvery, brokenEvery],
  );
  const { rows } = await pool.query<SeedCounts>(
    `SELECT count(*) FILTER (WHERE status = 'active')::int AS active,
            count(*) FILTER (WHERE status = 'inactive')::int AS inactive,
            count(*) FILTER (WHERE status = 'active' AND monthly_fee IS NULL)::int AS broken
       FROM subscriptions`,
  );
  return rows[0];
}
