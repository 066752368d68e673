import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { TerminatedFailure, TimeoutFailure } from '@temporalio/common';
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { msToNumber } from '@temporalio/common/lib/time';
import type { Pool } from 'pg';
import { failedTargets, ledgerStates, recordFailure, runIdOf } from '../src/db/ledger';
import { isConnectionError } from '../src/db/pool';
import { noteRunProblem, recordRun } from '../src/db/runHistory';
import { inTransaction } from '../src/db/transaction';
import { NonRetryableError } from '../src/errors';
import { logFailure, type FailureEvent, type FailureHook, type HookRetry, type RunCompleted } from '../src/hooks';
import { hookRetryOf } from '../src/hooks/delivery';
import { enqueueHookEvent, type HookName } from '../src/hooks/outbox';
import type { BatchRegistry } from '../src/registry';
import { type Db } from '../src/db/types';
import { stepsOf, type Batch } from '../src/batch';
import { checkTargetRows } from '../src/targets';
import { verifyRun } from '../src/verify';
import { triggerWorkflowId } from '../workflows/ids';
import { chainOutcome } from '../workflows/steps';
import type {
  ChunkInput,
  FailureRecord,
  FetchTargetsRequest,
  JobEnd,
  JobInput,
  RunRecordUpdate,
  RunSummary,
  ScheduledRunPlan,
  SettleRequest,
  StepOutcome,
  Target,
  Verification,
} from '../workflows/types';
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
  /** App-wide failure hook, for batches that declare none; unset: a structured log line. */
  onFailure?: FailureHook;
  /** App-wide hook retry policy, for batches that declare none. */
  hookRetry?: HookRetry;
  /** Told when an event was queued, so the worker's hook delivery looks at once. */
  onHookQueued?: () => void;
}

/** Attempts of a failing target query (not a lost connection) before the run fails with its error. */
export const TARGET_QUERY_ATTEMPTS = 5;

/** The activities behind tju's workflows: the only place they touch PostgreSQL. */
export function createActivities({ pool, batches, schema, onUnitFinished, onFailure, hookRetry, onHookQueued }: ActivityDeps) {
  const unitsInFlight = new Map<string, number>(); // by batch
  const countInFlight = (batch: string, delta: number) => {
    const n = (unitsInFlight.get(batch) ?? 0) + delta;
    unitsInFlight.set(batch, n);
    return n;
  };

  /** The same for every retry of the running activity: a retried write of an event adds nothing. */
  const activityKey = () => {
    const { workflowExecution, activityId } = Context.current().info;
    return `${workflowExecution?.workflowId}/${workflowExecution?.runId}/${activityId}`;
  };

  /**
   * Queues a call of the batch's hook for the workers to deliver apart from the run (src/hooks/delivery.ts),
   * in `db`'s transaction. A failure event with no hook declared is a log line, written now.
   */
  const raise = async (db: Db, batch: Batch, hook: HookName, event: FailureEvent | RunCompleted, dedupeKey: string) => {
    if (hook === 'onFailure' && !(batch.onFailure ?? onFailure)) return logFailure(event as FailureEvent);
    if (hook === 'onComplete' && !batch.onComplete) return;
    await enqueueHookEvent(
      db,
      {
        batch: batch.name,
        runKey: event.runKey,
        workflowId: Context.current().info.workflowExecution?.workflowId ?? '',
        dedupeKey,
        hook,
        event,
        maxAttempts: hookRetryOf(batch, hookRetry).maximumAttempts,
      },
      schema,
    );
  };

  /** Writes a failure record and queues its failure event, in one transaction. */
  const recordAndRaise = async (failure: FailureRecord, dedupeKey: string) => {
    const batch = batches.get(failure.batch);
    const { target, unit, ...event } = failure;
    await inTransaction(pool, async (tx) => {
      await recordFailure(tx, failure, schema);
      await raise(tx, batch, 'onFailure', { kind: 'target-failed', ...event }, dedupeKey);
    });
    onHookQueued?.();
  };

  /**
   * Runs one step of one target: its `when`, its transaction and ledger row, through lost connections, measured.
   * `heartbeat` is what the unit's `ctx.heartbeat()` does: Temporal's, in an activity of its own; in a bulk
   * chunk, the chunk's keep-alive, which never touches the chunk's resume point.
   */
  const unitStep = async (
    job: JobInput,
    attempt: number,
    heartbeat?: (details?: unknown) => void,
  ): Promise<'succeeded' | 'skipped' | 'not-applicable'> => {
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
        scheduledAt: heartbeat ? started : info.scheduledTimestampMs,
        finishedAt: Date.now(),
      });
    };
    try {
      const { outcome } = await throughLostConnections(() =>
        step.unit.execute(pool, input, {
          idempotencyKey: { batch: job.batch, runKey: job.runKey, targetKey: job.target.key },
          attempt,
          schema,
          heartbeat: heartbeat ?? (info.isLocal ? undefined : (details) => context.heartbeat(details)),
        }),
      );
      report(outcome);
      return outcome;
    } catch (err) {
      report('failed');
      throw err;
    }
  };

  /** A failing query is retried a few times (a lock timeout passes); then the run fails with its error. */
  const runQuery = async <T>(request: { batch: string; runKey: string }, query: () => Promise<T>): Promise<T> => {
    const { attempt } = Context.current().info;
    try {
      const result = await query();
      if (attempt > 1) await noteRunProblem(pool, request.batch, request.runKey, null, schema).catch(() => undefined);
      return result;
    } catch (err) {
      // A lost connection is an outage, not the query's fault: retried until the database answers.
      if (isConnectionError(err)) throw err;
      const message = err instanceof Error ? err.message : String(err);
      const last = attempt >= TARGET_QUERY_ATTEMPTS || err instanceof NonRetryableError;
      const problem = `target query ${last ? 'failed' : `failing (attempt ${attempt} of ${TARGET_QUERY_ATTEMPTS})`}: ${message}`;
      await noteRunProblem(pool, request.batch, request.runKey, problem, schema).catch(() => undefined);
      if (last) throw ApplicationFailure.create({ type: 'TargetQueryFailed', message, nonRetryable: true });
      throw err;
    }
  };

  return {
    /** One keyset page of the Trigger's query, checked: every row has a key, none twice. */
    async fetchTargets(request: FetchTargetsRequest): Promise<Target[]> {
      if (request.source === 'failures') {
        return runQuery(request, () => failedTargets(pool, request, request.after, request.limit, schema, request.upTo ?? null));
      }
      const batch = batches.get(request.batch);
      return runQuery(request, async () => {
        const rows = await batch.targets(pool, {
          params: request.params,
          runKey: request.runKey,
          after: request.after,
          upTo: request.upTo ?? null,
          limit: request.limit,
        });
        try {
          return checkTargetRows(batch.name, rows, request.after);
        } catch (err) {
          throw new NonRetryableError((err as Error).message);
        }
      });
    },

    /** Split keys of a partitioned run, from the batch's partitionKeys query. */
    async partitionKeys(request: { batch: string; runKey: string; params: Record<string, unknown>; count: number }) {
      const batch = batches.get(request.batch);
      if (!batch.partitionKeys) throw ApplicationFailure.nonRetryable(`${batch.name} defines no partitionKeys`);
      return runQuery(request, async () => (await batch.partitionKeys!(pool, request)).map(String));
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
      const chunkKey = activityKey();
      return runBulkChunk(
        {
          batch,
          runStep: (target, step, attempt, keepAlive) =>
            withTimeout(
              unitStep(
                { batch: input.batch, runKey: input.runKey, params: input.params, target, settings: input.settings, step },
                attempt,
                keepAlive,
              ),
              timeouts[step],
            ),
          recordFailure: (failure) => recordAndRaise(failure, `${chunkKey}/${failure.targetKey}`),
        },
        input,
      );
    },

    /** Params, run key and trigger input of the run a schedule started for its nominal time. */
    async planScheduledRun(request: { batch: string; scheduledAt: string }): Promise<ScheduledRunPlan> {
      const run = resolveScheduledRun(batches.get(request.batch), new Date(request.scheduledAt));
      return { workflowId: triggerWorkflowId(run.batch.name, run.runKey), input: buildTriggerInput(run) };
    },

    /** Writes the failure record and queues the failure hook's event, in one transaction. */
    async recordFailure(failure: FailureRecord): Promise<void> {
      await recordAndRaise(failure, activityKey());
    },

    /** The trigger's start, pauses, counts and end, in `run_history`: kept after Temporal drops the run. */
    async recordRun(update: RunRecordUpdate): Promise<void> {
      await recordRun(pool, update, schema);
    },

    /** Queues the failure hook's event for a run that ended with failed targets. */
    async runFailed(event: Omit<Extract<FailureEvent, { kind: 'run-failed' }>, 'kind'>): Promise<void> {
      await raise(pool, batches.get(event.batch), 'onFailure', { kind: 'run-failed', ...event }, activityKey());
      onHookQueued?.();
    },

    /** Queues the batch's `onComplete` call, once per run; the run does not wait for the hook. */
    async runCompleted(event: RunCompleted): Promise<void> {
      await raise(pool, batches.get(event.batch), 'onComplete', event, activityKey());
      onHookQueued?.();
    },

    /**
     * Waits for a job that another trigger of the run started under the same ID, and says how it ended: its
     * result, its recorded failure, or an end that said nothing of its targets.
     */
    async awaitJob({ workflowId }: { workflowId: string }): Promise<JobEnd> {
      const context = Context.current();
      const beat = setInterval(() => context.heartbeat(), 5000);
      try {
        const cancelled = new Promise<never>((_, reject) =>
          context.cancellationSignal.addEventListener('abort', () => reject(new CancelledFailure('the trigger stopped waiting'))),
        );
        const result = await Promise.race([context.client.workflow.getHandle(workflowId).result(), cancelled]);
        return { status: 'completed', result };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return { status: 'ended', how: 'could not be found' };
        if (!(err instanceof WorkflowFailedError)) throw err;
        const cause = err.cause;
        if (cause instanceof ApplicationFailure && cause.type === 'TargetFailed') {
          const steps = cause.details?.[1] as Record<string, StepOutcome> | undefined;
          return { status: 'failed', ...(steps ? { steps } : {}) };
        }
        const how =
          cause instanceof TerminatedFailure
            ? 'was terminated'
            : cause instanceof TimeoutFailure
              ? 'timed out'
              : cause instanceof CancelledFailure
                ? 'was cancelled'
                : `failed: ${cause?.message ?? err.message}`;
        return { status: 'ended', how };
      } finally {
        clearInterval(beat);
      }
    },

    /**
     * Targets whose job ended without saying what it did (terminated, timed out, out of attempts): each is
     * done if the ledger has a row for every step that applies to it; otherwise it gets a failure record
     * naming its first step without one, so `tju failures` lists it and `tju retry` does it.
     */
    async settleTargets(request: SettleRequest): Promise<Omit<RunSummary, 'total'>> {
      const batch = batches.get(request.batch);
      const steps = stepsOf(batch);
      const runId = await runIdOf(pool, batch.name, request.runKey, schema);
      const ledger = await ledgerStates(
        pool,
        runId,
        request.targets.map((t) => t.key),
        schema,
      );
      const counts: Omit<RunSummary, 'total'> = { succeeded: 0, failed: 0, skipped: 0 };
      const key = activityKey();
      for (const target of request.targets) {
        const outcomes: Record<string, StepOutcome> = {};
        const input = batch.job.input(target, request.params);
        for (const step of steps) {
          if (step.when && !safely(() => step.when!(input), true)) {
            outcomes[step.unit.name] = 'not-applicable';
            continue;
          }
          const skipped = ledger.get(target.key)?.get(step.unit.name);
          if (skipped !== undefined) {
            outcomes[step.unit.name] = skipped ? 'skipped' : 'succeeded';
            continue;
          }
          outcomes[step.unit.name] = 'failed';
          await recordAndRaise(
            {
              batch: batch.name,
              runKey: request.runKey,
              targetKey: target.key,
              unit: step.unit.name,
              error: request.reason.message,
              errorType: request.reason.type,
              attempts: 0,
              nonRetryable: false,
              target,
            },
            `${key}/${target.key}`,
          );
          break;
        }
        counts[Object.values(outcomes).includes('failed') ? 'failed' : chainOutcome(outcomes)]++;
        if (steps.length > 1) {
          counts.steps ??= {};
          for (const [unit, outcome] of Object.entries(outcomes)) {
            const perStep = (counts.steps[unit] ??= {});
            perStep[outcome] = (perStep[outcome] ?? 0) + 1;
          }
        }
      }
      return counts;
    },

    /** `trigger: { verify: true }`: what `tju verify` says of the run, at its end. */
    async verifyRun(request: { batch: string; runKey: string; params: Record<string, unknown> }): Promise<Verification> {
      const context = Context.current();
      return verifyRun(pool, batches.get(request.batch), request, { schema, onPage: (checked) => context.heartbeat(checked) });
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;

const safely = <T>(fn: () => T, fallback: T): T => {
  try {
    return fn();
  } catch {
    return fallback;
  }
};

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
