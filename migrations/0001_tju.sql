-- tju's own bookkeeping, in its own schema ({{schema}}, `tju` unless configured). Never holds domain data:
-- clearing it is always safe for idempotent units.
CREATE SCHEMA IF NOT EXISTS {{schema}};

-- One row per (run, target, unit) that finished, written in the unit's own transaction:
-- the idempotency key that makes a retried or duplicated job change nothing twice.
CREATE TABLE {{schema}}.ledger (
  batch       text        NOT NULL,
  run_key     text        NOT NULL,
  target_key  text        NOT NULL,
  unit        text        NOT NULL,
  outcome     text        NOT NULL CHECK (outcome IN ('succeeded', 'skipped')),
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (batch, run_key, target_key, unit)
);

-- The latest failure of each target whose job gave up (Laravel's failed_jobs); removed when it later succeeds.
-- `target` is the row its job carried (key and per-target options), so `tju retry` can dispatch it again.
CREATE TABLE {{schema}}.failures (
  batch         text        NOT NULL,
  run_key       text        NOT NULL,
  target_key    text        NOT NULL,
  unit          text        NOT NULL,
  error         text        NOT NULL,
  error_type    text        NOT NULL,
  attempts      integer     NOT NULL,
  non_retryable boolean     NOT NULL DEFAULT false,
  failed_at     timestamptz NOT NULL DEFAULT now(),
  target        jsonb       NOT NULL DEFAULT '{}',
  PRIMARY KEY (batch, run_key, target_key)
);
