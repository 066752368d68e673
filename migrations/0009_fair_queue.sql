-- A fair run's targets, staged once by its trigger with each one's fairness key (a tenant, a merchant), so the
-- trigger can take them round-robin by key, each key held to its bound in flight, wherever its targets lie in
-- the query's order. `page` is the dispatch page that took a target (null: still waiting): a page asked for
-- again, after a crash, returns the same targets. Kept with the run's ledger (prune deletes both).
CREATE TABLE {{schema}}.fair_queue (
  run_id       bigint  NOT NULL REFERENCES {{schema}}.runs (id),
  trigger      text    NOT NULL,
  seq          bigint  NOT NULL,
  fairness_key text    NOT NULL,
  key          text    NOT NULL,
  target       json    NOT NULL,
  page         integer,
  PRIMARY KEY (trigger, key)
);
CREATE INDEX fair_queue_waiting ON {{schema}}.fair_queue (trigger, fairness_key, seq) WHERE page IS NULL;
CREATE INDEX fair_queue_page ON {{schema}}.fair_queue (trigger, page) WHERE page IS NOT NULL;
CREATE INDEX fair_queue_run ON {{schema}}.fair_queue (run_id);
