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

/** One active subscription with this customer name (names steer the test batches) and fee; returns its id. */
export async function insertSubscription(pool: Pool, customer: string, fee: number | null = 10): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO subscriptions (customer, status, monthly_fee) VALUES ($1, 'active', $2) RETURNING id`,
    [customer, fee],
  );
  return rows[0].id;
}

/** `n` active subscriptions whose price was never set: the billing unit refuses them (NonRetryableError). */
export async function insertNoFeeSubscriptions(pool: Pool, n = 1): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO subscriptions (customer, status, monthly_fee)
     SELECT 'no-fee-' || g, 'active', NULL FROM generate_series(1, $1::int) g RETURNING id`,
    [n],
  );
  return rows.map((r) => r.id);
}

/**
 * `n` active subscriptions for the mixed test batch, in a repeating pattern of outcomes:
 * every 7th `broken`, every 11th `doomed`, every 5th `flaky`, the rest plain.
 */
export async function insertMixedSubscriptions(pool: Pool, n: number) {
  const { rows } = await pool.query<{ id: string; customer: string }>(
    `INSERT INTO subscriptions (customer, status, monthly_fee)
     SELECT CASE WHEN g % 7 = 0 THEN 'broken-' WHEN g % 11 = 0 THEN 'doomed-' WHEN g % 5 = 0 THEN 'flaky-' ELSE 'plain-' END || g,
            'active', 10
       FROM generate_series(1, $1::int) g RETURNING id, customer`,
    [n],
  );
  const failing = rows.filter((r) => /^(broken|doomed)-/.test(r.customer)).map((r) => r.id);
  const billable = rows.filter((r) => /^(plain|flaky)-/.test(r.customer)).map((r) => r.id);
  return { failing, billable };
}

/** Empties the billing tables and tju's records, so a test starts from nothing whatever ran before it. */
export async function resetBillingData(pool: Pool): Promise<void> {
  await pool.query('TRUNCATE invoices, subscriptions, tju.ledger, tju.failures RESTART IDENTITY CASCADE');
}

/** Ledger rows of the runs with this run key (one per target and unit that finished). */
export async function ledgerCount(pool: Pool, runKey: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM tju.ledger l JOIN tju.runs r ON r.id = l.run_id WHERE r.run_key = $1',
    [runKey],
  );
  return rows[0].n;
}
