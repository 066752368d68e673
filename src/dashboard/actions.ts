// The dashboard's buttons: each does what the CLI command of the same name does, then records who did it.
import type { Pool } from 'pg';
import type { TjuClient } from '../temporal/client';
import { clearFailures, countFailures } from '../db/ledger';
import { recordRunAction } from '../db/runActions';
import { UserError } from '../errors';
import type { FailureFilter } from '../contracts/types';
import type { TjuSchedules } from '../temporal/schedules';

export type RunActionName = 'pause' | 'resume' | 'cancel' | 'cancel-now' | 'retry' | 'clear';

export interface ActionContext {
  pool: Pool;
  tju: TjuClient;
  schema?: string;
  actor: string;
}

export interface RunRef {
  batch: string;
  runKey: string;
  /** The params the run was started with, as recorded: what a retry resolves again. */
  params: Record<string, unknown>;
}

/** Does one operator action on a run and records it; resolves with what to tell the operator. */
export async function actOnRun(ctx: ActionContext, run: RunRef, action: RunActionName, filter: FailureFilter = {}): Promise<string> {
  const { pool, tju, schema, actor } = ctx;
  const handle = tju.handleFor(run.batch, run.runKey);
  let said: string;
  let detail: Record<string, unknown> = {};
  switch (action) {
    case 'pause':
    case 'resume': {
      const reached = await handle[action]();
      said = `${action === 'pause' ? 'paused' : 'resumed'} ${reached.join(', ')}`;
      detail = { workflows: reached };
      break;
    }
    case 'cancel':
    case 'cancel-now': {
      const now = action === 'cancel-now';
      const reached = await handle.cancel({ now, reason: `cancelled from the dashboard by ${actor}` });
      said = `cancelling ${reached.join(', ')}${now ? ' and its jobs in flight' : '; jobs in flight finish'}`;
      detail = { workflows: reached, now };
      break;
    }
    case 'retry': {
      if (!tju.knows(run.batch)) throw new UserError(`this dashboard's app does not define ${run.batch}: retry it from its own app`);
      const { total } = await countFailures(pool, run, { filter, schema });
      if (total === 0) throw new UserError('no open failure matches: nothing to retry');
      const started = await tju.retry(run.batch, run.params, { failures: filter });
      said = `retrying ${total} failed target(s) as ${started.workflowId}`;
      detail = { ...filter, targets: total, workflowId: started.workflowId };
      break;
    }
    case 'clear': {
      if ((await handle.state()) === 'RUNNING')
        throw new UserError(`${handle.workflowId} is running; clear its failures once it has finished`);
      const forgot = await clearFailures(pool, run, { filter, schema });
      if (forgot === 0) throw new UserError('no open failure matches: nothing to clear');
      said = `forgot ${forgot} failure record(s); the next run of ${run.runKey} selects their targets again`;
      detail = { ...filter, failures: forgot };
      break;
    }
  }
  await recordRunAction(pool, run, action, actor, detail, schema);
  return said;
}

export type ScheduleActionName = 'pause' | 'unpause' | 'trigger';

export async function actOnSchedule(schedules: TjuSchedules, batch: string, action: ScheduleActionName, actor: string): Promise<string> {
  if (action === 'trigger') await schedules.trigger(batch);
  else await schedules[action](batch, `${action}d from the dashboard by ${actor}`);
  return `${action === 'trigger' ? 'triggered' : `${action}d`} the schedule of ${batch}`;
}
