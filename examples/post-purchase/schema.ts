import type { Pool } from 'pg';

/**
 * The shop's own tables: orders and members' ranks, and what post-processing makes of each — a receipt, a points grant, a
 * shipment request, a notification in an outbox. One idempotent statement, applied by `setup` and the demo.
 */
export const SHOP_SCHEMA = `
CREATE TABLE IF NOT EXISTS campaigns (
  id               text          PRIMARY KEY,
  points_multiplier numeric(4,2) NOT NULL
);

-- A customer's member rank: it sets how many points a purchase earns (regular ×1, silver ×1.5, gold ×2).
CREATE TABLE IF NOT EXISTS members (
  customer text PRIMARY KEY,
  rank     text NOT NULL CHECK (rank IN ('regular', 'silver', 'gold'))
);

CREATE TABLE IF NOT EXISTS orders (
  id                bigserial     PRIMARY KEY,
  customer          text          NOT NULL,
  email             text          NOT NULL,
  status            text          NOT NULL CHECK (status IN ('pending', 'completed', 'cancelled')),
  amount            numeric(12,2) NOT NULL,
  payment_method    text          NOT NULL CHECK (payment_method IN ('card', 'bank-transfer', 'convenience-store')),
  shipping_type     text          NOT NULL CHECK (shipping_type IN ('standard', 'express', 'digital')),
  -- NULL for digital goods; a physical order without a postal code cannot be shipped.
  postal_code       text,
  is_first_purchase boolean       NOT NULL DEFAULT false,
  campaign_id       text          REFERENCES campaigns (id),
  completed_at      timestamptz,
  -- Set by the last step: the trigger's "not yet post-processed".
  post_processed_at timestamptz
);

CREATE TABLE IF NOT EXISTS receipts (
  order_id  bigint        PRIMARY KEY REFERENCES orders (id),
  number    text          NOT NULL UNIQUE,
  amount    numeric(12,2) NOT NULL,
  issued_at timestamptz   NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS point_grants (
  order_id   bigint      PRIMARY KEY REFERENCES orders (id),
  points     integer     NOT NULL,
  reason     text        NOT NULL,
  granted_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS shipments (
  order_id        bigint      PRIMARY KEY REFERENCES orders (id),
  shipping_type   text        NOT NULL,
  tracking_number text        NOT NULL,
  requested_at    timestamptz NOT NULL DEFAULT now()
);

-- An outbox: a mailer sends what is here and marks it sent; post-processing only queues.
CREATE TABLE IF NOT EXISTS notifications (
  id        bigserial   PRIMARY KEY,
  order_id  bigint      NOT NULL REFERENCES orders (id),
  kind      text        NOT NULL,
  recipient text        NOT NULL,
  payload   jsonb       NOT NULL,
  queued_at timestamptz NOT NULL DEFAULT now(),
  sent_at   timestamptz,
  UNIQUE (order_id, kind)
);

-- The trigger walks completed, unprocessed orders in id order.
CREATE INDEX IF NOT EXISTS orders_to_post_process ON orders (id) WHERE status = 'completed' AND post_processed_at IS NULL;
`;

export async function applyShopSchema(pool: Pool): Promise<void> {
  await pool.query(SHOP_SCHEMA);
}
