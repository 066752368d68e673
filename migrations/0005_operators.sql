-- What an operator did to a run (pause, resume, cancel, retry, clear), who did it and when: part of the
-- run's history, so a retried group or a cleared failure never goes unexplained.
CREATE TABLE {{schema}}.run_actions (
  id     bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id bigint      NOT NULL REFERENCES {{schema}}.runs (id),
  action text        NOT NULL,
  actor  text        NOT NULL,
  detail jsonb       NOT NULL DEFAULT '{}',
  at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX run_actions_run ON {{schema}}.run_actions (run_id, at);

-- A failure's cause with what varies per target masked (quoted values, UUIDs, anything with a digit):
-- failures that share it are one group, retried or cleared together. Kept short to stay indexable.
ALTER TABLE {{schema}}.failures ADD COLUMN error_group text GENERATED ALWAYS AS (
  left(error_type || ': ' ||
    regexp_replace(
      regexp_replace(
        regexp_replace(
          regexp_replace(error, '"[^"]*"|`[^`]*`', '"?"', 'g'),
          '(^|[^[:alnum:]])''[^'']*''', '\1''?''', 'g'),
        '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}', '?', 'g'),
      '[[:alnum:]_.-]*[0-9][[:alnum:]_.-]*', '?', 'g'),
    300)
) STORED;
-- The failure groups of a run, counted from the index alone (with the ledger's key for which are still open).
CREATE INDEX failures_by_group ON {{schema}}.failures (run_id, error_group, unit) INCLUDE (target_key, failed_at);
