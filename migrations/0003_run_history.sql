-- One row per start of a run's trigger (the run, a re-run of its key, a retry of its failures), written by the
-- trigger's own activities: what ran and what it did, kept after Temporal's retention has dropped the history.
CREATE TABLE {{schema}}.run_history (
  workflow_id  text        NOT NULL,
  -- The first execution's run ID: the same across continue-as-new, new for each re-run of the workflow ID.
  execution_id text        NOT NULL,
  run_id       bigint      NOT NULL REFERENCES {{schema}}.runs (id),
  kind         text        NOT NULL CHECK (kind IN ('run', 'retry')),
  params       jsonb       NOT NULL DEFAULT '{}',
  state        text        NOT NULL CHECK (state IN ('running', 'paused', 'completed', 'failed', 'cancelled')),
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz,
  counts       jsonb,
  reason       text,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workflow_id, execution_id)
);
CREATE INDEX run_history_run_id ON {{schema}}.run_history (run_id);
CREATE INDEX run_history_started_at ON {{schema}}.run_history (started_at);
