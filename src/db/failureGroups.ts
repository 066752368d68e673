import type { Db } from './types';
import { tjuTables } from './schema';
import type { Target } from '../contracts/types';

/** Open failures of a run that share a cause: the step that gave up and its error with what varies masked. */
export interface FailureGroup {
  /** `Type: message` with quoted values, UUIDs and anything with a digit masked as `?`. */
  group: string;
  unit: string;
  count: number;
  firstSeen: Date;
  lastSeen: Date;
  /** A few of its targets, with the options their jobs carried and their own error. */
  samples: Array<{ targetKey: string; error: string; attempts: number; target: Target }>;
}

/**
 * A run's open failures grouped by cause, the largest group first. Read from the `failures_by_group` index,
 * each record checked against the ledger's primary key (a later success resolves it); the samples are the
 * first few the index finds, so a group of 100,000 is not sorted for three.
 */
export async function failureGroups(db: Db, runId: string, { limit = 50, samples = 3 } = {}, schema?: string): Promise<FailureGroup[]> {
  const t = tjuTables(schema);
  const open = (f: string) =>
    `NOT EXISTS (SELECT 1 FROM ${t.ledger} l WHERE l.run_id = ${f}.run_id AND l.target_key = ${f}.target_key AND l.unit = ${f}.unit)`;
  const { rows } = await db.query<FailureGroup>(
    `SELECT g.error_group AS "group", g.unit, g.count, g.first_seen AS "firstSeen", g.last_seen AS "lastSeen",
            coalesce(s.samples, '[]') AS samples
       FROM (SELECT f.run_id, f.error_group, f.unit, count(*)::int AS count, min(f.failed_at) AS first_seen,
                    max(f.failed_at) AS last_seen
               FROM ${t.failures} f
              WHERE f.run_id = $1 AND ${open('f')}
              GROUP BY f.run_id, f.error_group, f.unit) g,
            LATERAL (SELECT json_agg(json_build_object('targetKey', x.target_key, 'error', x.error, 'attempts', x.attempts,
                                                       'target', x.target) ORDER BY x.target_key) AS samples
                       FROM (SELECT x.* FROM ${t.failures} x
                              WHERE x.run_id = g.run_id AND x.error_group = g.error_group AND x.unit = g.unit AND ${open('x')}
                              LIMIT $3) x) s
      ORDER BY g.count DESC, g.error_group, g.unit
      LIMIT $2`,
    [runId, limit, samples],
  );
  return rows;
}
