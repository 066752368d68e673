import { Context } from '@temporalio/activity';
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type { Pool } from 'pg';
import { stepsOf, type ChainStep } from '../src/batch';
import type { StepOutcome, Target } from '../src/contracts/types';
import { isConnectionError } from '../src/db/pool';
import { UnitSession, type NextClaim } from '../src/db/session';
import { UnitStop } from '../src/db/unitStop';
import { BreakerOpenError, NonRetryableError } from '../src/errors';
import type { BatchRegistry } from '../src/registry';
import { activityMeter } from '../src/temporal/metrics';
import { Slots } from '../src/util/slots';
import { batchOf, type ActivityDeps, type UnitEvent } from './deps';
import { BreakerGate } from './breaker';
import type { BreakerSettings } from '../src/unit';
import { tracingOn } from '../src/telemetry/tracing';
import { inUnitSpan } from '../src/telemetry/unitSpan';

/** How one unit runs, beside its target: its attempt, what its heartbeat does, where it was scheduled. */
export interface UnitRun {
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
export interface StepOfRun {
  batch: string;
  runKey: string;
  params: Record<string, unknown>;
  /** The step's index in the batch's chain. */
  step: number;
  timeout: Duration;
}

/** A job's step, looked up once for every target an activity runs it for (a bulk chunk runs thousands). */
export interface PreparedStep {
  job: StepOfRun;
  /** Undefined when the batch has no such step: every target of it fails, saying so. */
  step?: ChainStep<unknown>;
  inputOf(target: Target): unknown;
  timeoutMs: number;
  measure(target: Target, attempt: number, inChunk?: boolean): (outcome: UnitEvent['outcome']) => void;
}

/**
 * The one way a unit runs, whatever schedules it (a job's activity, a chunk's lane): one step of one target —
 * its `when`, one of the process's unit slots, its transaction and ledger row, retried through lost
 * connections — within its own timeout: when that passes, or its activity is cancelled, the unit is stopped
 * and its transaction rolled back (`ctx.signal`). Measured for the metrics. Retries of the unit's own
 * failures are its scheduler's: Temporal's policy for an activity, the same policy in process for a chunk.
 */
export class UnitRunner {
  readonly slots: Slots;
  private readonly pool: Pool;
  private readonly batches: BatchRegistry;
  private readonly schema?: string;
  private readonly onUnitFinished?: ActivityDeps['onUnitFinished'];
  private readonly unitsInFlight = new Map<string, number>(); // by batch
  private readonly breakers: BreakerGate;

  constructor(deps: ActivityDeps) {
    this.pool = deps.pool;
    this.batches = deps.batches;
    this.schema = deps.schema;
    this.onUnitFinished = deps.onUnitFinished;
    this.slots = deps.unitSlots ?? new Slots(deps.maxConcurrentUnits ?? 20);
    this.breakers = new BreakerGate(deps.pool, deps.schema);
  }

  /** A lane's connection: it keeps a unit slot from one of its units to the next. */
  session = (): UnitSession => new UnitSession(this.pool, this.schema, this.slots);

  /** Looks a run's step up once, for every target it runs for. */
  prepare(job: StepOfRun): PreparedStep {
    const batch = batchOf(this.batches, job.batch);
    const step = stepsOf(batch)[job.step];
    return {
      job,
      step,
      inputOf: (target) => batch.job.input(target, job.params),
      timeoutMs: msToNumber(job.timeout),
      measure: this.measurer(job, step?.unit.name ?? ''),
    };
  }

  /** One attempt of one target's step; with tracing on, in a span of its own (src/telemetry/unitSpan.ts). */
  async run(prepared: PreparedStep, target: Target, run: UnitRun): Promise<Exclude<StepOutcome, 'failed'>> {
    const { job, step } = prepared;
    if (!step) throw new NonRetryableError(`${job.batch} has no step ${job.step}: was the batch changed mid-run?`);
    const input = prepared.inputOf(target);
    if (step.when && !step.when(input)) return 'not-applicable';
    if (!tracingOn()) return this.attempt(prepared, step, target, input, run);
    return inUnitSpan({ ...job, unit: step.unit.name, targetKey: target.key, attempt: run.attempt }, () =>
      this.attempt(prepared, step, target, input, run),
    );
  }

  private async attempt(
    prepared: PreparedStep,
    step: ChainStep<unknown>,
    target: Target,
    input: unknown,
    run: UnitRun,
  ): Promise<Exclude<StepOutcome, 'failed' | 'not-applicable'>> {
    const { job, timeoutMs } = prepared;
    const { session, attempt } = run;
    const admission = step.unit.breaker && (await this.admit(step.unit.name, step.unit.breaker, timeoutMs, session));
    const context = Context.current();
    // A lane's session keeps its slot from one unit to the next while it has the next one's claim open.
    const release = session ? () => undefined : await this.slots.acquire(context.cancellationSignal);
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
        schema: this.schema,
        heartbeat: run.heartbeat ?? (context.info.isLocal ? undefined : (details?: unknown) => context.heartbeat(details)),
        stop,
      };
      const { outcome } = await throughLostConnections(Date.now() + timeoutMs, stop, () =>
        (session ?? new UnitSession(this.pool, this.schema)).run(step.unit, input, options, run.next),
      );
      measure(outcome);
      if (admission) await this.breakers.settle(admission);
      return outcome;
    } catch (err) {
      measure('failed');
      if (admission && !isConnectionError(err) && !context.cancellationSignal.aborted) await this.breakers.settle(admission, err);
      throw err;
    } finally {
      clearTimeout(timer);
      context.cancellationSignal.removeEventListener('abort', onCancel);
      release();
    }
  }

  /**
   * A unit with a circuit breaker asks it first; refused, a lane gives back its connection (and the claim it had
   * opened for this target) before its scheduler waits.
   */
  private async admit(unit: string, breaker: BreakerSettings, timeoutMs: number, session?: UnitSession) {
    try {
      return await this.breakers.admit(unit, breaker, timeoutMs);
    } catch (err) {
      await session?.close();
      if (err instanceof BreakerOpenError)
        activityMeter({ unit }).createCounter('tju_breaker_refusals_total', '', 'Unit attempts an open circuit breaker held back').add(1);
      throw err;
    }
  }

  private countInFlight(batch: string, delta: number): number {
    const n = (this.unitsInFlight.get(batch) ?? 0) + delta;
    this.unitsInFlight.set(batch, n);
    return n;
  }

  /**
   * Times and counts a step's unit attempts: Temporal's metrics (when served) and the worker's own callback.
   * The instruments are made once per prepared step.
   */
  private measurer(job: StepOfRun, unit: string) {
    const { info } = Context.current();
    // Exported only when the worker serves metrics (`tju worker --metrics-port`); no-ops otherwise.
    const metrics = activityMeter({ batch: job.batch, unit });
    const inFlight = metrics.createGauge('tju_units_in_flight', 'int', '', 'Units of the batch running in this worker now');
    const attempts = metrics.createCounter('tju_units', '', 'Unit attempts by batch, unit and outcome');
    const durations = metrics.createHistogram('tju_unit_duration_seconds', 'float', 's', 'Time of one unit attempt');
    return (target: Target, attempt: number, inChunk?: boolean) => {
      const started = Date.now();
      inFlight.set(this.countInFlight(job.batch, 1));
      return (outcome: UnitEvent['outcome']) => {
        const finishedAt = Date.now();
        inFlight.set(this.countInFlight(job.batch, -1));
        attempts.add(1, { outcome });
        durations.record((finishedAt - started) / 1000, { outcome });
        const scheduledAt = inChunk ? started : info.scheduledTimestampMs;
        this.onUnitFinished?.({ batch: job.batch, runKey: job.runKey, targetKey: target.key, outcome, attempt, scheduledAt, finishedAt });
      };
    };
  }
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
