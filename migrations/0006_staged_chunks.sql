-- A bulk chunk's targets, written by the trigger's page fetch and read by the chunk's activity, so a run's
-- targets never travel through Temporal's history. Kept with the run's ledger (prune deletes both): a chunk
-- resumed after a crash, or its trigger reset, reads the same list again.
CREATE TABLE {{schema}}.staged_chunks (
  id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id     bigint      NOT NULL REFERENCES {{schema}}.runs (id),
  targets    json        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staged_chunks_run ON {{schema}}.staged_chunks (run_id);
