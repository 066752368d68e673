-- A row per run, so the ledger and failure records key on its number instead of repeating the batch name
-- and run key in every row: a smaller index, less WAL per unit.
CREATE TABLE {{schema}}.runs (
  id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  batch      text        NOT NULL,
  run_key    text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (batch, run_key)
);

INSERT INTO {{schema}}.runs (batch, run_key)
SELECT batch, run_key FROM {{schema}}.ledger
 UNION
SELECT batch, run_key FROM {{schema}}.failures
 ORDER BY 1, 2;

-- One row per (run, target, unit) that finished, claimed first thing in the unit's own transaction:
-- the idempotency key that makes a retried or duplicated job change nothing twice. No foreign key: its
-- check would share-lock the run's row from every unit at once.
CREATE TABLE {{schema}}.ledger_by_run (
  run_id      bigint      NOT NULL,
  target_key  text        NOT NULL,
  unit        text        NOT NULL,
  skipped     boolean     NOT NULL DEFAULT false,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, target_key, unit)
);
INSERT INTO {{schema}}.ledger_by_run (run_id, target_key, unit, skipped, recorded_at)
SELECT r.id, l.target_key, l.unit, l.outcome = 'skipped', l.recorded_at
  FROM {{schema}}.ledger l JOIN {{schema}}.runs r USING (batch, run_key);
DROP TABLE {{schema}}.ledger;
ALTER TABLE {{schema}}.ledger_by_run RENAME TO ledger;
ALTER INDEX {{schema}}.ledger_by_run_pkey RENAME TO ledger_pkey;

-- The latest failure of each target whose job gave up (Laravel's failed_jobs), with the row its job carried
-- so `tju retry` can dispatch it again. A failure is open while its unit has no ledger row for the target:
-- a later success resolves it without touching this table.
CREATE TABLE {{schema}}.failures_by_run (
  run_id        bigint      NOT NULL,
  target_key    text        NOT NULL,
  unit          text        NOT NULL,
  error         text        NOT NULL,
  error_type    text        NOT NULL,
  attempts      integer     NOT NULL,
  non_retryable boolean     NOT NULL DEFAULT false,
  failed_at     timestamptz NOT NULL DEFAULT now(),
  target        jsonb       NOT NULL DEFAULT '{}',
  PRIMARY KEY (run_id, target_key)
);
INSERT INTO {{schema}}.failures_by_run (run_id, target_key, unit, error, error_type, attempts, non_retryable, failed_at, target)
SELECT r.id, f.target_key, f.unit, f.error, f.error_type, f.attempts, f.non_retryable, f.failed_at, f.target
  FROM {{schema}}.failures f JOIN {{schema}}.runs r USING (batch, run_key);
DROP TABLE {{schema}}.failures;
ALTER TABLE {{schema}}.failures_by_run RENAME TO failures;
ALTER INDEX {{schema}}.failures_by_run_pkey RENAME TO failures_pkey;
