import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { BREAKER_OPEN, breakerOpenDetails, UNKNOWN_BATCH, unitFailureDetails } from '../src/contracts/details';
import type { ChunkJobInput, FailureRecord, RunSummary, StepOutcome, UnitRequest } from '../src/contracts/types';
import type { NextClaim } from '../src/db/session';
import { BreakerOpenError, NonRetryableError } from '../src/errors';
import { runBulkChunk, type UpcomingStep } from './bulk';
import { activityKey, batchOf, stagedOrGiven, type ActivityDeps } from './deps';
import { UnitRunner, type PreparedStep } from './unitRunner';

/**
 * The activities that run units, both through the one runner (activities/unitRunner.ts): `runUnit`, one step of
 * one target as an activity of its own, retried by Temporal; `runChunk`, a chunk's targets in lanes, each
 * retried in process by the same policy (activities/bulk.ts).
 */
export function unitActivities(deps: ActivityDeps, recordFailure: (failure: FailureRecord, dedupeKey: string) => Promise<void>) {
  const { pool, batches, schema } = deps;
  const runner = new UnitRunner(deps);

  /**
   * Fails an activity of a batch this worker does not define. A local one (a per-chunk job's chunk) ran inside
   * its job's workflow task, so it must not be retried here: the job fails that task for another worker.
   */
  const knownBatch = (name: string) => {
    try {
      batchOf(batches, name);
    } catch (err) {
      if (!(err instanceof ApplicationFailure) || !Context.current().info.isLocal) throw err;
      throw ApplicationFailure.create({ type: err.type ?? undefined, message: err.message, nonRetryable: true });
    }
  };

  return {
    /**
     * One target's Unit (the job's step of the batch's chain), in one transaction, recorded in the ledger under
     * the job's idempotency key. A step whose `when` leaves the target out does nothing.
     */
    async runUnit(request: UnitRequest): Promise<Exclude<StepOutcome, 'failed'>> {
      const { attempt } = Context.current().info;
      const { batch, runKey, params, step, settings } = request;
      try {
        return await runner.run(runner.prepare({ batch, runKey, params, step, timeout: settings.timeout }), request.target, { attempt });
      } catch (err) {
        if (err instanceof CancelledFailure) throw err;
        // Not the target's failure: the job leaves it to a worker that knows the batch (workflows/step.ts).
        if (err instanceof ApplicationFailure && err.type === UNKNOWN_BATCH) {
          throw ApplicationFailure.create({ type: UNKNOWN_BATCH, message: err.message, nonRetryable: true });
        }
        // Refused by the unit's open circuit breaker: the job waits and asks again, counting no attempt.
        if (err instanceof BreakerOpenError) {
          throw ApplicationFailure.create({
            type: BREAKER_OPEN,
            message: err.message,
            nonRetryable: true,
            details: breakerOpenDetails.encode(err.retryAfterMs),
          });
        }
        const error = err instanceof Error ? err : new Error(String(err));
        // The attempt number rides along so the job can record how many tries the target got.
        throw ApplicationFailure.create({
          type: error.name,
          message: error.message,
          // By name: an app may hold a second copy of tju (a nested install), whose class is another object.
          nonRetryable: error.name === NonRetryableError.name,
          details: unitFailureDetails.encode({ attempt, unit: settings.unit }),
        });
      }
    },

    /**
     * The bulk granularity: a chunk of targets in one activity, each with its own transactions and retries; a
     * per-chunk job's chunk, as a local activity.
     */
    async runChunk(input: ChunkJobInput): Promise<Omit<RunSummary, 'total'>> {
      knownBatch(input.batch); // a worker that does not define it leaves the whole chunk to one that does
      const targets = await stagedOrGiven(pool, input.targets, schema);
      const chunkKey = activityKey();
      const { batch, runKey, params } = input;
      const prepared = input.settings.steps.map(({ timeout }, step) => runner.prepare({ batch, runKey, params, step, timeout }));
      return runBulkChunk(
        {
          lane: () => {
            const session = runner.session();
            return {
              runStep: (target, step, attempt, keepAlive, upcoming) =>
                runner.run(prepared[step], target, {
                  attempt,
                  heartbeat: keepAlive,
                  inChunk: true,
                  session,
                  next: () => claimOf(prepared, upcoming()),
                }),
              close: () => session.close(),
            };
          },
          recordFailure: (failure) => recordFailure(failure, `${chunkKey}/${failure.targetKey}`),
        },
        { ...input, targets },
      );
    },
  };
}

/**
 * The ledger claim of a step a lane runs next; none when its `when` leaves the target out (no transaction) or
 * the step is gone (its own run says so: this one is committing).
 */
function claimOf(prepared: PreparedStep[], upcoming?: UpcomingStep): NextClaim | undefined {
  const next = upcoming && prepared[upcoming.step];
  const step = next?.step;
  if (!upcoming || !step || (step.when && !step.when(next.inputOf(upcoming.target)))) return undefined;
  return { batch: next.job.batch, runKey: next.job.runKey, targetKey: upcoming.target.key, unit: step.unit.name };
}
