-- Circuit breakers, one per unit that declares one, shared by every worker: how many retryable failures the
-- unit had in its current window, and whether it is closed (units run), open (none start until its cool-off
-- has passed) or half-open (one probe runs; its outcome closes or reopens it).
CREATE TABLE {{schema}}.breakers (
  unit          text        PRIMARY KEY,
  state         text        NOT NULL DEFAULT 'closed' CHECK (state IN ('closed', 'open', 'half-open')),
  failures      integer     NOT NULL DEFAULT 0,
  window_start  timestamptz,
  opened_at     timestamptz,
  -- The failures, and the seconds they came in, that opened it: what status pages say.
  opened_after  integer,
  opened_within_s integer,
  probe_until   timestamptz,
  changed_at    timestamptz NOT NULL DEFAULT now()
);

-- Each time a breaker opened, let a probe through or closed: its history, beside the runs'.
CREATE TABLE {{schema}}.breaker_events (
  id       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  unit     text        NOT NULL,
  event    text        NOT NULL CHECK (event IN ('opened', 'probing', 'closed', 'reopened')),
  detail   text        NOT NULL,
  at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX breaker_events_unit ON {{schema}}.breaker_events (unit, at);
