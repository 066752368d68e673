import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import { failedTargets, recordFailure } from '../src/db/ledger';
import { isConnectionError } from '../src/db/pool';
import { recordRun } from '../src/db/runHistory';
import { NonRetryableError } from '../src/errors';
import { logFailure, type FailureEvent, type FailureHook, type RunCompleted } from '../src/notify';
import type { BatchRegistry } from '../src/registry';
import { stepsOf } from '../src/definitions';
import { triggerWorkflowId } from '../workflows/ids';
import type { ChunkInput, FailureRecord, FetchTargetsRequest, JobInput, RunRecordUpdate, RunSummary, ScheduledRunPlan, Target } from '../workflows/types';
import { msToNumber } from '@temporalio/common/lib/time';
import { runBulkChunk } from './bulk';
import { buildTriggerInput, resolveScheduledRun } from '../src/plan';

/** What one unit run did, for metrics: outcome, and when it was scheduled and finished (epoch ms). */
export interface UnitEvent {
  batch: string;
  runKey: string;
  targetKey: string;
  outcome: 'succeeded' | 'skipped' | 'failed';
  attempt: number;
  scheduledAt: number;
  finishedAt: number;
}

export interface ActivityDeps {
  pool: Pool;
  batches: BatchRegistry;
  /** The schema of tju's tables (default `tju`). */
  schema?: string;
  /** Called after every unit attempt, committed or not. Must not throw. */
  onUnitFinished?: (event: UnitEvent) => void;
  /** App-wide failure hook, for batches that declare none; default: a structured log line. */
  onFailure?: FailureHook;
}

/** The activities behind tju's workflows: the only place they touch PostgreSQL. */
export function createActivities({ pool, batches, schema, onUnitFinished, onFailure = logFailure }: ActivityDeps) {
  const notify = (event: FailureEvent) => (batches.get(event.batch).onFailure ?? onFailure)(event);
  const unitsInFlight = new Map<string, number>(); // by batch
  const countInFlight = (batch: string, delta: number) => {
    const n = (unitsInFlight.get(batch) ?? 0) + delta;
    unitsInFlight.set(batch, n);
    return n;
  };

  /** Runs one step of one target: its `when`, its transaction and ledger row, through lost connections, measured. */
  const unitStep = async (job: JobInput, attempt: number): Promise<'succeeded' | 'skipped' | 'not-applicable'> => {
    const batch = batches.get(job.batch);
    const step = stepsOf(batch)[job.step ?? 0];
    if (!step) throw new NonRetryableError(`${batch.name} has no step ${job.step}: was the batch changed mid-run?`);
    const input = batch.job.input(job.target, job.params);
    if (step.when && !step.when(input)) return 'not-applicable';
    const context = Context.current();
    const { info, metricMeter } = context;
    // Exported only when the worker serves metrics (`tju worker --metrics-port`); no-ops otherwise.
    const metrics = metricMeter.withTags({ batch: job.batch, unit: step.unit.name });
    const inFlight = metrics.createGauge('tju_units_in_flight', 'int', '', 'Units of the batch running in this worker now');
    const started = Date.now();
    inFlight.set(countInFlight(job.batch, 1));
    const report = (outcome: UnitEvent['outcome']) => {
      inFlight.set(countInFlight(job.batch, -1));
      metrics.createCounter('tju_units', '', 'Unit attempts by batch, unit and outcome').add(1, { outcome });
      metrics.createHistogram('tju_unit_duration', 'int', 'ms', 'Time of one unit attempt').record(Date.now() - started, { outcome });
      onUnitFinished?.({
        batch: job.batch,
        runKey: job.runKey,
        targetKey: job.target.key,
        outcome,
        attempt,
        // In a bulk chunk the activity was scheduled once for all its targets: time each from its own start.
        scheduledAt: info.activityType === 'runChunk' ? started : info.scheduledTimestampMs,
        finishedAt: Date.now(),
      });
    };
    try {
      const { outcome } = await throughLostConnections(() =>
        step.unit.execute(pool, input, {
          idempotencyKey: { batch: job.batch, runKey: job.runKey, targetKey: job.target.key },
          attempt,
          schema,
          heartbeat: info.isLocal ? undefined : (details) => context.heartbeat(details),
        }),
      );
      report(outcome);
      return outcome;
    } catch (err) {
      report('failed');
      throw err;
    }
  };

  return {
    /** One keyset page of the Trigger's query. */
    async fetchTargets(request: FetchTargetsRequest): Promise<Target[]> {
      if (request.source === 'failures') return failedTargets(pool, request, request.after, request.limit, schema);
      const batch = batches.get(request.batch);
      const rows = await batch.targets(pool, {
        params: request.params,
        runKey: request.runKey,
        after: request.after,
        upTo: request.upTo ?? null,
        limit: request.limit,
      });
      return rows.map((row: Target) => ({ ...row, key: String(row.key) }));
    },

    /** Split keys of a partitioned run, from the batch's partitionKeys query. */
    async partitionKeys(request: { batch: string; runKey: string; params: Record<string, unknown>; count: number }) {
      const batch = batches.get(request.batch);
      if (!batch.partitionKeys) throw ApplicationFailure.nonRetryable(`${batch.name} defines no partitionKeys`);
      return (await batch.partitionKeys(pool, request)).map(String);
    },

    /**
     * One target's Unit (the job's step of the batch's chain), in one transaction, recorded in the ledger under
     * the job's idempotency key. A step whose `when` leaves the target out does nothing.
     */
    async runUnit(job: JobInput): Promise<'succeeded' | 'skipped' | 'not-applicable'> {
      const { attempt } = Context.current().info;
      try {
        return await unitStep(job, attempt);
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        // The attempt number rides along so the job can record how many tries the target got.
        throw ApplicationFailure.create({
          type: error.name,
          message: error.message,
          // By name: an app may hold a second copy of tju (a nested install), whose class is another object.
          nonRetryable: error.name === NonRetryableError.name,
          details: [{ attempt, unit: stepsOf(batches.get(job.batch))[job.step ?? 0]?.unit.name }],
        });
      }
    },

    /** The bulk granularity: a chunk of targets in one activity, each with its own transactions and retries. */
    async runChunk(input: ChunkInput): Promise<Omit<RunSummary, 'total'>> {
      const batch = batches.get(input.batch);
      const timeouts = stepsOf(batch).map((_, i) => msToNumber(input.settings.steps?.[i]?.timeout ?? input.settings.timeout ?? '1m'));
      return runBulkChunk(
        {
          pool,
          batch,
          schema,
          runStep: (target, step, attempt) =>
            withTimeout(
              unitStep({ batch: input.batch, runKey: input.runKey, params: input.params, target, settings: input.settings, step }, attempt),
              timeouts[step],
            ),
          notifyFailure: async ({ target, unit, ...event }) => notify({ kind: 'target-failed', ...event }),
        },
        input,
      );
    },

    /** Params, run key and trigger input of the run a schedule started for its nominal time. */
    async planScheduledRun(request: { batch: string; scheduledAt: string }): Promise<ScheduledRunPlan> {
      const run = resolveScheduledRun(batches.get(request.batch), new Date(request.scheduledAt));
      return { workflowId: triggerWorkflowId(run.batch.name, run.runKey), input: buildTriggerInput(run) };
    },

    /** Writes the failure record, then tells the failure hook. */
    async recordFailure(failure: FailureRecord): Promise<void> {
      await recordFailure(pool, failure, schema);
      const { target, unit, ...event } = failure;
      await notify({ kind: 'target-failed', ...event });
    },

    /** The trigger's start, pauses, counts and end, in `run_history`: kept after Temporal drops the run. */
    async recordRun(update: RunRecordUpdate): Promise<void> {
      await recordRun(pool, update, schema);
    },

    /** Tells the failure hook that a run ended with failed targets. */
    async runFailed(event: Omit<Extract<FailureEvent, { kind: 'run-failed' }>, 'kind'>): Promise<void> {
      await notify({ kind: 'run-failed', ...event });
    },

    /** The batch's `onComplete` hook, once per run (retried until it returns). */
    async runCompleted(event: RunCompleted): Promise<void> {
      await batches.get(event.batch).onComplete?.(event, { db: pool });
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;

/**
 * Runs `work` again while PostgreSQL is unreachable or drops the connection (a restart, a failover, a
 * terminated backend), waiting with backoff until the attempt's own deadline is near; then the error counts
 * as the attempt's. Running the unit again is safe: a transaction cut off never committed, and one whose
 * COMMIT was acknowledged by the server just before the loss finds its ledger entry and is skipped. An outage
 * must not use up the attempts that the retry policy keeps for the unit's own failures.
 */
async function throughLostConnections<T>(work: () => Promise<T>): Promise<T> {
  const context = Context.current();
  const deadline = Date.now() + (context.info.startToCloseTimeoutMs ?? 60_000) - 1000;
  for (let wait = 100; ; wait = Math.min(wait * 2, 2000)) {
    try {
      return await work();
    } catch (err) {
      if (!isConnectionError(err) || Date.now() + wait >= deadline) throw err;
      context.log.warn('PostgreSQL connection lost; running the unit again once it answers', { error: (err as Error).message });
      await context.sleep(wait);
    }
  }
}

/** Rejects after `ms` (the unit's timeout inside a bulk chunk); the ledger keeps a late commit harmless. */
function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`unit timed out after ${ms} ms`), { name: 'TimeoutError' })), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
