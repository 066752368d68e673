// The activities behind tju's workflows: the only place they touch PostgreSQL. One module per concern.
import type { ActivityDeps } from './deps';
import { fairActivities } from './fairness';
import { recordKeeping } from './records';
import { runActivities } from './runs';
import { targetActivities } from './targets';
import { unitActivities } from './units';

export type { ActivityDeps, UnitEvent } from './deps';
export { TARGET_QUERY_ATTEMPTS } from './targets';

/** Every activity a tju worker registers, built on one pool and one set of batches. */
export function createActivities(deps: ActivityDeps) {
  const records = recordKeeping(deps);
  return {
    ...targetActivities(deps),
    ...fairActivities(deps),
    ...unitActivities(deps, records.recordAndRaise),
    ...records.activities,
    ...runActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
