import { recordFailure, ledgerStates, runIdOf } from '../src/db/ledger';
import { activeTraceId } from '../src/telemetry/tracing';
import { recordRun } from '../src/db/runHistory';
import { inTransaction } from '../src/db/transaction';
import { stepsOf, type Batch } from '../src/batch';
import type { Db } from '../src/db/types';
import { logFailure, type FailureEvent, type RunCompleted } from '../src/hooks';
import { hookRetryOf } from '../src/hooks/delivery';
import { enqueueHookEvent, type HookName } from '../src/hooks/outbox';
import { addStepCounts, chainOutcome } from '../src/contracts/chain';
import type { FailureRecord, RunRecordUpdate, RunSummary, SettleRequest, StepOutcome } from '../src/contracts/types';
import { activityKey, batchOf, stagedOrGiven, type ActivityDeps } from './deps';
import { Context } from '@temporalio/activity';

/** Failure records and the run's history, and the hook events they raise (an outbox the workers deliver). */
export function recordKeeping({ pool, batches, schema, onFailure, hookRetry, onHookQueued }: ActivityDeps) {
  /**
   * Queues a call of the batch's hook for the workers to deliver apart from the run (src/hooks/delivery.ts),
   * in `db`'s transaction. A failure event with no hook declared is a log line, written now.
   */
  const raise = async (db: Db, batch: Batch, hook: HookName, event: FailureEvent | RunCompleted, dedupeKey: string) => {
    if (hook === 'onFailure' && !(batch.onFailure ?? onFailure)) return logFailure(event as FailureEvent);
    if (hook === 'onComplete' && !batch.onComplete) return;
    const workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
    const maxAttempts = hookRetryOf(batch, hookRetry).maximumAttempts;
    await enqueueHookEvent(db, { batch: batch.name, runKey: event.runKey, workflowId, dedupeKey, hook, event, maxAttempts }, schema);
  };

  /** Writes a failure record and queues its failure event, in one transaction. */
  const recordAndRaise = async (failure: FailureRecord, dedupeKey: string) => {
    const batch = batchOf(batches, failure.batch);
    const { target: _target, unit: _unit, ...event } = failure;
    await inTransaction(pool, async (tx) => {
      await recordFailure(tx, failure, schema);
      await raise(tx, batch, 'onFailure', { kind: 'target-failed', ...event }, dedupeKey);
    });
    onHookQueued?.();
  };

  const activities = {
    /** Writes the failure record and queues the failure hook's event, in one transaction. */
    async recordFailure(failure: FailureRecord): Promise<void> {
      await recordAndRaise(failure, activityKey());
    },

    /** The trigger's start, pauses, counts and end, in `run_history`: kept after Temporal drops the run. */
    async recordRun(update: RunRecordUpdate): Promise<void> {
      // Inside the activity's span when tracing: the row keeps the run's trace for the dashboard's link.
      const traceId = activeTraceId();
      await recordRun(pool, traceId ? { ...update, traceId } : update, schema);
    },

    /** Queues the failure hook's event for a run that ended with failed targets. */
    async runFailed(event: Omit<Extract<FailureEvent, { kind: 'run-failed' }>, 'kind'>): Promise<void> {
      await raise(pool, batchOf(batches, event.batch), 'onFailure', { kind: 'run-failed', ...event }, activityKey());
      onHookQueued?.();
    },

    /** Queues the batch's `onComplete` call, once per run; the run does not wait for the hook. */
    async runCompleted(event: RunCompleted): Promise<void> {
      await raise(pool, batchOf(batches, event.batch), 'onComplete', event, activityKey());
      onHookQueued?.();
    },

    /**
     * Targets whose job ended without saying what it did (terminated, timed out, out of attempts): each is
     * done if the ledger has a row for every step that applies to it; otherwise it gets a failure record
     * naming its first step without one, so `tju failures` lists it and `tju retry` does it.
     */
    async settleTargets(request: SettleRequest): Promise<Omit<RunSummary, 'total'>> {
      const batch = batchOf(batches, request.batch);
      const steps = stepsOf(batch);
      const runId = await runIdOf(pool, batch.name, request.runKey, schema);
      const targets = await stagedOrGiven(pool, request.targets, schema);
      const keys = targets.map((target) => target.key);
      const ledger = await ledgerStates(pool, runId, keys, schema);
      const counts: Omit<RunSummary, 'total'> = { succeeded: 0, failed: 0, skipped: 0 };
      const key = activityKey();
      for (const target of targets) {
        const outcomes: Record<string, StepOutcome> = {};
        const input = batch.job.input(target, request.params);
        for (const step of steps) {
          const done = ledger.get(target.key)?.get(step.unit.name);
          if (step.when && !applies(() => step.when!(input))) outcomes[step.unit.name] = 'not-applicable';
          else if (done !== undefined) outcomes[step.unit.name] = done ? 'skipped' : 'succeeded';
          else {
            outcomes[step.unit.name] = 'failed';
            const { message: error, type: errorType } = request.reason;
            const failure = { batch: batch.name, runKey: request.runKey, targetKey: target.key, unit: step.unit.name, target };
            await recordAndRaise({ ...failure, error, errorType, attempts: 0, nonRetryable: false }, `${key}/${target.key}`);
            break;
          }
        }
        counts[Object.values(outcomes).includes('failed') ? 'failed' : chainOutcome(outcomes)]++;
        if (steps.length > 1) addStepCounts((counts.steps ??= {}), outcomes);
      }
      return counts;
    },
  };
  return { recordAndRaise, activities };
}

/** A step's `when` that throws counts as applying: the stricter answer. */
function applies(when: () => boolean): boolean {
  try {
    return when();
  } catch {
    return true;
  }
}
