import type { Pool } from 'pg';

/**
 * The billing app's own tables. tju never creates an app's tables; this app keeps its schema in one idempotent
 * statement applied by its `setup` command (and the demo) — a real app would use its usual migration tool.
 */
export const BILLING_SCHEMA = `
CREATE TABLE IF NOT EXISTS subscriptions (
  id             bigserial     PRIMARY KEY,
  customer       text          NOT NULL,
  status         text          NOT NULL CHECK (status IN ('active', 'inactive')),
  -- NULL marks a subscription whose price was never set: its invoice cannot be issued.
  monthly_fee    numeric(12,2),
  payment_method text          NOT NULL DEFAULT 'card',
  created_at     timestamptz   NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS invoices (
  id              bigserial     PRIMARY KEY,
  subscription_id bigint        NOT NULL REFERENCES subscriptions (id),
  billing_date    date          NOT NULL,
  amount          numeric(12,2) NOT NULL,
  status          text          NOT NULL DEFAULT 'issued',
  payment_method  text          NOT NULL,
  issued_at       timestamptz   NOT NULL DEFAULT now(),
  UNIQUE (subscription_id, billing_date)
);

-- The trigger walks active subscriptions in id order.
CREATE INDEX IF NOT EXISTS subscriptions_active_id ON subscriptions (id) WHERE status = 'active';
`;

export async function applyBillingSchema(pool: Pool): Promise<void> {
  await pool.query(BILLING_SCHEMA);
}
