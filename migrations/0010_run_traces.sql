-- The trace of each start of a run, when its workers trace (OpenTelemetry): the dashboard links to it.
ALTER TABLE {{schema}}.run_history ADD COLUMN trace_id text;
