import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { stepsOf, type ChainStep } from '../src/batch';
import { isConnectionError } from '../src/db/pool';
import { UnitSession, type NextClaim } from '../src/db/session';
import { UnitStop } from '../src/db/unitStop';
import { NonRetryableError } from '../src/errors';
import { Slots } from '../src/util/slots';
import { UNKNOWN_BATCH, unitFailureDetails } from '../src/contracts/details';
import type { ChunkJobInput, FailureRecord, RunSummary, StepOutcome, Target, UnitRequest } from '../src/contracts/types';
import { runBulkChunk, type UpcomingStep } from './bulk';
import { activityKey, batchOf, stagedOrGiven, type ActivityDeps, type UnitEvent } from './deps';
import { activityMeter } from '../src/temporal/metrics';

/** How one unit runs, beside its target: its attempt, what its heartbeat does, where it was scheduled. */
interface UnitRun {
  attempt: number;
  /** What the unit's `ctx.heartbeat()` does: Temporal's in an activity of its own; in a bulk chunk, its keep-alive. */
  heartbeat?: (details?: unknown) => void;
  /** In a bulk chunk: the activity was scheduled once for all its targets, so each is timed from its own start. */
  inChunk?: boolean;
  /** In a bulk chunk: the lane's connection, which holds its unit slot, and the claim it opens next. */
  session?: UnitSession;
  next?: () => NextClaim | undefined;
}

/** Which step of which run: what a unit's runner needs beside the target. */
interface StepOfRun {
  batch: string;
  runKey: string;
  params: Record<string, unknown>;
  /** The step's index in the batch's chain. */
  step: number;
  timeout: Duration;
}

/** A job's step, looked up once for every target an activity runs it for (a bulk chunk runs thousands). */
interface PreparedStep {
  job: StepOfRun;
  /** Undefined when the batch has no such step: every target of it fails, saying so. */
  step?: ChainStep<unknown>;
  inputOf(target: Target): unknown;
  timeoutMs: number;
  measure(target: Target, attempt: number, inChunk?: boolean): (outcome: UnitEvent['outcome']) => void;
}

/**
 * The Unit's runner, behind the `runUnit` and `runChunk` activities: one step of one target — its `when`, one
 * of the process's unit slots, its transaction and ledger row, retried through lost connections — within its
 * own timeout: when that passes, or its activity is cancelled, the unit is stopped and its transaction rolled
 * back (`ctx.signal`). Measured for the metrics.
 */
export function unitActivities(deps: ActivityDeps, recordFailure: (failure: FailureRecord, dedupeKey: string) => Promise<void>) {
  const { pool, batches, schema, onUnitFinished } = deps;
  const slots = deps.unitSlots ?? new Slots(deps.maxConcurrentUnits ?? 20);
  const unitsInFlight = new Map<string, number>(); // by batch
  const countInFlight = (batch: string, delta: number) => {
    const n = (unitsInFlight.get(batch) ?? 0) + delta;
    unitsInFlight.set(batch, n);
    return n;
  };

  const prepare = (job: StepOfRun): PreparedStep => {
    const batch = batchOf(batches, job.batch);
    const step = stepsOf(batch)[job.step];
    const timeoutMs = msToNumber(job.timeout);
    return {
      job,
      step,
      inputOf: (target) => batch.job.input(target, job.params),
      timeoutMs,
      measure: measurer(job, step?.unit.name ?? ''),
    };
  };

  const runStep = async (prepared: PreparedStep, target: Target, run: UnitRun): Promise<Exclude<StepOutcome, 'failed'>> => {
    const { job, step, timeoutMs } = prepared;
    if (!step) throw new NonRetryableError(`${job.batch} has no step ${job.step}: was the batch changed mid-run?`);
    const input = prepared.inputOf(target);
    if (step.when && !step.when(input)) return 'not-applicable';
    const { session, attempt } = run;
    const context = Context.current();
    // A lane's session keeps its slot from one unit to the next while it has the next one's claim open.
    const release = session ? () => undefined : await slots.acquire(context.cancellationSignal);
    if (session && !session.holdsSlot) await session.hold(context.cancellationSignal);
    const stop = new UnitStop();
    const onCancel = () => stop.abort(context.cancellationSignal.reason);
    context.cancellationSignal.addEventListener('abort', onCancel, { once: true });
    const timer = setTimeout(() => stop.abort(timedOut(timeoutMs)), timeoutMs);
    const measure = prepared.measure(target, attempt, run.inChunk);
    try {
      const options = {
        idempotencyKey: { batch: job.batch, runKey: job.runKey, targetKey: target.key },
        attempt,
        schema,
        heartbeat: run.heartbeat ?? (context.info.isLocal ? undefined : (details?: unknown) => context.heartbeat(details)),
        stop,
      };
      const { outcome } = await throughLostConnections(Date.now() + timeoutMs, stop, () =>
        (session ?? new UnitSession(pool, schema)).run(step.unit, input, options, run.next),
      );
      measure(outcome);
      return outcome;
    } catch (err) {
      measure('failed');
      throw err;
    } finally {
      clearTimeout(timer);
      context.cancellationSignal.removeEventListener('abort', onCancel);
      release();
    }
  };

  /**
   * Times and counts a step's unit attempts: Temporal's metrics (when served) and the worker's own callback.
   * The instruments are made once per prepared step.
   */
  const measurer = (job: StepOfRun, unit: string) => {
    const { info } = Context.current();
    // Exported only when the worker serves metrics (`tju worker --metrics-port`); no-ops otherwise.
    const metrics = activityMeter({ batch: job.batch, unit });
    const inFlight = metrics.createGauge('tju_units_in_flight', 'int', '', 'Units of the batch running in this worker now');
    const attempts = metrics.createCounter('tju_units', '', 'Unit attempts by batch, unit and outcome');
    const durations = metrics.createHistogram('tju_unit_duration_seconds', 'float', 's', 'Time of one unit attempt');
    return (target: Target, attempt: number, inChunk?: boolean) => {
      const started = Date.now();
      inFlight.set(countInFlight(job.batch, 1));
      return (outcome: UnitEvent['outcome']) => {
        const finishedAt = Date.now();
        inFlight.set(countInFlight(job.batch, -1));
        attempts.add(1, { outcome });
        durations.record((finishedAt - started) / 1000, { outcome });
        const scheduledAt = inChunk ? started : info.scheduledTimestampMs;
        onUnitFinished?.({ batch: job.batch, runKey: job.runKey, targetKey: target.key, outcome, attempt, scheduledAt, finishedAt });
      };
    };
  };

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
        return await runStep(prepare({ batch, runKey, params, step, timeout: settings.timeout }), request.target, { attempt });
      } catch (err) {
        if (err instanceof CancelledFailure) throw err;
        // Not the target's failure: the job leaves it to a worker that knows the batch (workflows/step.ts).
        if (err instanceof ApplicationFailure && err.type === UNKNOWN_BATCH) {
          throw ApplicationFailure.create({ type: UNKNOWN_BATCH, message: err.message, nonRetryable: true });
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
      const prepared = input.settings.steps.map(({ timeout }, step) => prepare({ batch, runKey, params, step, timeout }));
      return runBulkChunk(
        {
          lane: () => {
            const session = new UnitSession(pool, schema, slots);
            return {
              runStep: (target, step, attempt, keepAlive, upcoming) =>
                runStep(prepared[step], target, {
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

const timedOut = (ms: number) =>
  Object.assign(new Error(`the unit did not finish within its timeout of ${ms} ms`), { name: 'TimeoutError' });

/**
 * Runs `work` again while PostgreSQL is unreachable or drops the connection (a restart, a failover, a
 * terminated backend), waiting with backoff until the unit's own deadline is near; then the error counts as
 * the attempt's. Running the unit again is safe: a transaction cut off never committed, and one whose COMMIT
 * was acknowledged by the server just before the loss finds its ledger entry and is skipped. An outage must
 * not use up the attempts that the retry policy keeps for the unit's own failures.
 */
async function throughLostConnections<T>(deadline: number, stop: UnitStop, work: () => Promise<T>): Promise<T> {
  const context = Context.current();
  for (let wait = 100; ; wait = Math.min(wait * 2, 2000)) {
    try {
      return await work();
    } catch (err) {
      if (!isConnectionError(err) || stop.aborted || Date.now() + wait >= deadline - 1000) throw err;
      context.log.warn('PostgreSQL connection lost; running the unit again once it answers', { error: (err as Error).message });
      await context.sleep(wait);
    }
  }
}
