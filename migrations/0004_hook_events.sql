-- Hook calls waiting to be made, made, or given up on: an outbox. The event is written by the run's own
-- activity (with the failure record it reports, in one transaction), and the workers deliver it apart from
-- the run, with the hook's own bounded retries: a hook that throws never holds a job or a run open.
CREATE TABLE {{schema}}.hook_events (
  id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id          bigint      NOT NULL,
  -- The trigger or job that raised it, and what makes a retried activity's second write the same event.
  workflow_id     text        NOT NULL,
  dedupe_key      text        NOT NULL UNIQUE,
  batch           text        NOT NULL,
  hook            text        NOT NULL CHECK (hook IN ('onFailure', 'onComplete')),
  event           jsonb       NOT NULL,
  state           text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'gave-up')),
  attempts        integer     NOT NULL DEFAULT 0,
  max_attempts    integer     NOT NULL,
  -- When it is due; while a worker calls the hook, when that worker's claim lapses.
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz
);
CREATE INDEX hook_events_due ON {{schema}}.hook_events (next_attempt_at) WHERE state = 'pending';
CREATE INDEX hook_events_run ON {{schema}}.hook_events (run_id);

-- What holds a run up right now (its target query failing, say), written while it is retried.
ALTER TABLE {{schema}}.run_history ADD COLUMN problem text;
