-- The dashboard's sign-ins: a random session ID in the operator's cookie, kept here only as its SHA-256, with
-- the CSRF token bound to it. A session ends when idle or old (the dashboard's timeouts) or when signed out
-- (revoked_at); any dashboard process sharing this database honours all three.
CREATE TABLE {{schema}}.dashboard_sessions (
  id_hash      bytea       PRIMARY KEY,
  name         text        NOT NULL,
  csrf         text        NOT NULL,
  address      text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz
);
CREATE INDEX dashboard_sessions_age ON {{schema}}.dashboard_sessions (created_at);

-- What operators did outside a run, and what the dashboard refused: sign-ins (and failed ones, which also
-- limit the rate of sign-in per address), sign-outs, refused posts, schedule actions.
CREATE TABLE {{schema}}.operator_events (
  id      bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at      timestamptz NOT NULL DEFAULT now(),
  kind    text        NOT NULL,
  actor   text        NOT NULL,
  address text,
  batch   text,
  detail  jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX operator_events_by_kind ON {{schema}}.operator_events (kind, address, at);
CREATE INDEX operator_events_by_batch ON {{schema}}.operator_events (batch, at);
