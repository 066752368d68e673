-- The target row a failed job carried (its key and per-target options), so `tju retry` can dispatch
-- exactly that job again.
ALTER TABLE tju_failures ADD COLUMN target jsonb NOT NULL DEFAULT '{}';
