import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  continueAsNew,
  metricMeter,
  patched,
  executeChild,
  proxyActivities,
  setHandler,
  TerminatedFailure,
  TimeoutFailure,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import { chunkWorkflowId, jobWorkflowId, legacyIds, partitionWorkflowId, runSearchAttributes, searchAttributes, searchValue } from './ids';
import { chunkJobWorkflow } from './chunk';
import { cancelSignal, pauseSignal, resumeSignal, type CancelRequest } from './control';
import { jobWorkflow } from './job';
import { progressQuery } from './queries';
import { addStepCounts } from './steps';
import type {
  JobEnd,
  JobInput,
  JobResult,
  RunRecordUpdate,
  RunStop,
  RunSummary,
  StepCounts,
  StepOutcome,
  Target,
  TriggerInput,
  TriggerState,
} from './types';

/** Temporal refuses more than 2,000 pending children per workflow; stay well below. */
export const MAX_WINDOW = 1000;
export const DEFAULT_CHUNK_SIZE = 100;
export const DEFAULT_CHUNK_CONCURRENCY = 10;

/**
 * Runs started from this patch on: workflow IDs no target key can collide with (workflows/ids.ts); a job that
 * another trigger of the run already started is awaited and its result counted, never counted as skipped; a
 * job that ended without saying what it did (terminated, timed out, a bulk chunk that gave up) has its targets
 * settled by the ledger, the rest recorded as failures.
 */
export const EXACTLY_ONCE_EDGES = 'exactly-once-edges';

const { fetchTargets, partitionKeys, recordRun, runFailed, runCompleted, settleTargets } = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: { maximumInterval: '1m' },
});

/** Waiting for a job another trigger started: as long as that job takes, alive by heartbeat. */
const { awaitJob } = proxyActivities<Activities>({
  startToCloseTimeout: '24h',
  heartbeatTimeout: '1m',
  retry: { maximumInterval: '1m' },
});

/** `trigger: { verify: true }`: pages the whole target query once; a failure is reported, not fatal. */
const { verifyRun } = proxyActivities<Activities>({
  startToCloseTimeout: '1h',
  heartbeatTimeout: '1m',
  retry: { maximumInterval: '30s', maximumAttempts: 3 },
});

/**
 * The bulk granularity's job: one activity per chunk. It heartbeats as its targets finish (and every few
 * seconds while one waits for a retry), so a worker that dies is noticed within the heartbeat timeout and the
 * chunk resumes elsewhere after its last finished target; its targets' own failures are counted inside it.
 */
const { runChunk } = proxyActivities<Activities>({
  startToCloseTimeout: '24h',
  // The SDK sends at most one heartbeat per 0.8 × this: what a resumed chunk may run again.
  heartbeatTimeout: '5s',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

/**
 * The Trigger: pages through the targets not yet processed for one run (keyset, never OFFSET), starts one
 * job per target with at most `window` in flight, and continues as new before its history grows large.
 * A failed target is counted, never fatal to the run — unless the batch sets a failure threshold.
 * Operators pause, resume and cancel it with signals (workflows/control.ts); none adds a command until one
 * arrives, so histories from before they existed replay unchanged.
 */
export async function triggerWorkflow(input: TriggerInput, state?: TriggerState): Promise<RunSummary> {
  const counts: RunSummary = state ? { ...state.counts } : { total: 0, succeeded: 0, failed: 0, skipped: 0 };
  const continuedRuns = state?.continuedRuns ?? 0;
  const window = Math.max(1, Math.min(input.window, MAX_WINDOW));
  let cursor = state?.cursor ?? input.after ?? null;
  let chunks = state?.chunks ?? 0;
  let inFlight = 0;
  let dispatchedHere = 0;
  let done = false;
  let paused = state?.paused ?? false;
  let stopped: RunStop | undefined;
  const runningPartitions = new Set<string>();
  const jobsInFlight = new Set<CancellationScope>();
  // Exported by workers that serve metrics; not emitted while replaying, so a run is counted once.
  // Jobs in flight = started - finished; runs running = started - finished.
  const metrics = metricMeter.withTags({ batch: input.batch });
  const jobsStarted = metrics.createCounter('tju_jobs_started', '', 'Jobs (child workflows) dispatched');
  const jobsFinished = metrics.createCounter('tju_jobs_finished', '', 'Jobs ended, by outcome');
  const isRun = input.partition === undefined;
  if (isRun && !state) metrics.createCounter('tju_runs_started', '', 'Runs started').add(1);
  setHandler(progressQuery, () => ({
    ...counts,
    ...(stopped ? { stopped } : {}),
    inFlight,
    cursor,
    continuedRuns,
    done,
    ...(paused ? { paused } : {}),
    ...(runningPartitions.size ? { runningPartitions: [...runningPartitions] } : {}),
  }));

  /** Passes a control on to the partition triggers still running (each controls its own jobs). */
  const forward = (send: (partition: ReturnType<typeof getExternalWorkflowHandle>) => Promise<void>) => {
    for (const workflowId of runningPartitions) void send(getExternalWorkflowHandle(workflowId)).catch(() => undefined);
  };
  setHandler(pauseSignal, () => {
    paused = true;
    forward((partition) => partition.signal(pauseSignal));
  });
  setHandler(resumeSignal, () => {
    paused = false;
    forward((partition) => partition.signal(resumeSignal));
  });
  setHandler(cancelSignal, (request: CancelRequest) => {
    stopped ??= { state: 'cancelled', reason: request.reason ?? 'cancelled by an operator' };
    paused = false;
    if (request.now) for (const job of jobsInFlight) job.cancel();
    forward((partition) => partition.signal(cancelSignal, request));
  });

  /** Stops dispatching once failures pass the batch's threshold; jobs in flight still finish. */
  const checkThreshold = () => {
    const finished = counts.succeeded + counts.failed + counts.skipped;
    if (stopped || counts.failed === 0) return;
    if (input.maxFailures !== undefined && counts.failed > input.maxFailures) {
      stopped = { state: 'failed', reason: `${counts.failed} targets failed, more than maxFailures ${input.maxFailures}` };
    } else if (
      input.maxFailureRatio !== undefined &&
      finished >= (input.minTargets ?? 1) &&
      counts.failed / finished > input.maxFailureRatio
    ) {
      stopped = {
        state: 'failed',
        reason: `${counts.failed} of ${finished} targets failed, more than maxFailureRatio ${input.maxFailureRatio}`,
      };
    }
  };

  // The run's row in PostgreSQL (the parent's, not each partition's). Behind a patch: histories from before
  // it replay without these activities.
  const recordsHistory = isRun && patched('run-history');
  const edges = patched(EXACTLY_ONCE_EDGES);
  // One write at a time, in order: a pause written after a resume would leave the row saying paused.
  let writes: Promise<void> = Promise.resolve();
  const record = (update: Pick<RunRecordUpdate, 'state' | 'finished' | 'counts' | 'reason'>) => {
    const info = workflowInfo();
    writes = writes.then(() =>
      recordRun({
        batch: input.batch,
        runKey: input.runKey,
        workflowId: info.workflowId,
        executionId: info.firstExecutionRunId,
        kind: input.source === 'failures' ? 'retry' : 'run',
        params: input.params,
        startedAt: info.startTime.toISOString(),
        ...update,
      }),
    );
    return writes;
  };
  if (recordsHistory) {
    // Each run of the chain starts with a write: the first says the run began; a continued one brings the
    // counts so far and the paused state it carried (a pause that came while the last one drained included).
    await record({ state: paused ? 'paused' : 'running', finished: false, ...(state ? { counts } : {}) });
    // Then each pause and resume as it comes; the end's write is the last.
    void (async () => {
      for (let recorded = paused; ;) {
        await condition(() => paused !== recorded || done);
        if (done) return;
        recorded = paused;
        await record({ state: paused ? 'paused' : 'running', finished: false, counts });
      }
    })();
  }

  /** The run stops with its target query's failure: it could not tell what is left to do. */
  const queryFailed = (err: unknown) => {
    if (!(err instanceof ActivityFailure)) throw err;
    stopped ??= { state: 'failed', reason: `target query failed: ${(err.cause ?? err).message}` };
  };

  if ((input.partitions ?? 1) > 1 && !state) {
    // Key ranges, each a trigger of its own; this run adds up their summaries as they finish.
    let keys: string[];
    try {
      keys = await partitionKeys({ ...input, count: input.partitions! });
    } catch (err) {
      queryFailed(err);
      return finish();
    }
    const bounds = [input.after ?? null, ...keys, input.upTo ?? null];
    await Promise.all(
      bounds.slice(0, -1).map(async (after, i) => {
        const trigger = workflowInfo().workflowId;
        const workflowId = edges ? partitionWorkflowId(trigger, i) : legacyIds.partition(trigger, i);
        runningPartitions.add(workflowId);
        const part = await executeChild(triggerWorkflow, {
          workflowId,
          args: [{ ...input, partitions: 1, partition: i, after, upTo: bounds[i + 1] }],
          typedSearchAttributes: runSearchAttributes(input.batch, input.runKey),
        });
        runningPartitions.delete(workflowId);
        for (const key of ['total', 'succeeded', 'failed', 'skipped'] as const) counts[key] += part[key];
        if (part.steps) addSteps(part.steps);
        if (part.cancelled) counts.cancelled = (counts.cancelled ?? 0) + part.cancelled;
        if (part.stopped) stopped ??= part.stopped;
      }),
    );
    return finish();
  }

  const runAttributes = runSearchAttributes(input.batch, input.runKey);
  const bulk = input.granularity === 'bulk';
  const perChunk = input.granularity === 'per-chunk' || bulk;
  const chunkSize = Math.max(1, input.chunkSize ?? DEFAULT_CHUNK_SIZE);

  /** Runs one job over `targets` (one target per-target, a chunk per-chunk) and counts its outcomes. */
  const dispatch = async (targets: Target[]): Promise<void> => {
    const job = { batch: input.batch, runKey: input.runKey, params: input.params, settings: input.job };
    // Its own scope, so `cancel --now` can cancel the jobs in flight and nothing else.
    const scope = new CancellationScope();
    jobsInFlight.add(scope);
    jobsStarted.add(1);
    let outcome = 'completed';
    try {
      outcome = await scope.run(() => (edges ? runJob(targets, job) : runLegacyJob(targets, job)));
    } catch (err) {
      if (isCancellation(err)) {
        outcome = 'cancelled';
        counts.cancelled = (counts.cancelled ?? 0) + targets.length;
      } else throw err;
    } finally {
      jobsFinished.add(1, { outcome });
      jobsInFlight.delete(scope);
      inFlight--;
      checkThreshold();
    }
  };

  /**
   * Starts the job and counts what it did. A job already running under the same ID (another trigger of the
   * run started it: a retry beside a re-run, a reset trigger) is awaited and its result counted; one that ends
   * without a result of its own has its targets settled by the ledger, the rest recorded as failed.
   */
  const runJob = async (targets: Target[], job: Omit<JobInput, 'target'>): Promise<string> => {
    const first = targets[0].key;
    const workflowId = perChunk
      ? chunkWorkflowId(workflowInfo().workflowId, ++chunks, first, targets[targets.length - 1].key)
      : jobWorkflowId(input.batch, input.runKey, first);
    let end: JobEnd;
    try {
      if (bulk) {
        end = { status: 'completed', result: await runChunk(chunkInput(targets, job)) };
      } else if (perChunk) {
        end = {
          status: 'completed',
          result: await executeChild(chunkJobWorkflow, {
            workflowId,
            args: [chunkInput(targets, job)],
            typedSearchAttributes: runAttributes,
          }),
        };
      } else {
        end = {
          status: 'completed',
          result: await executeChild(jobWorkflow, {
            workflowId,
            args: [{ ...job, target: targets[0] }],
            typedSearchAttributes: [...runAttributes, { key: searchAttributes.targetKey, value: searchValue(first) }],
          }),
        };
      }
    } catch (err) {
      if (isCancellation(err)) throw err;
      if (err instanceof WorkflowExecutionAlreadyStartedError) end = await awaitJob({ workflowId });
      else end = jobEndOf(err);
    }
    if (end.status === 'completed') {
      tally(end.result);
      return 'completed';
    }
    if (end.status === 'failed') {
      counts.failed += targets.length;
      if (end.steps) addSteps(end.steps);
      return 'failed';
    }
    const settled = await settleTargets({ ...job, targets, reason: { type: 'JobEnded', message: `its job ${end.how}` } });
    tally(settled);
    return settled.failed ? 'failed' : 'completed';
  };

  /** Runs started before EXACTLY_ONCE_EDGES: their IDs, and "already started" counted as skipped. */
  const runLegacyJob = async (targets: Target[], job: Omit<JobInput, 'target'>): Promise<string> => {
    const first = targets[0].key;
    try {
      if (perChunk) {
        const chunk = chunkInput(targets, job);
        tally(
          bulk
            ? await runChunk(chunk)
            : await executeChild(chunkJobWorkflow, {
                workflowId: legacyIds.chunk(input.batch, input.runKey, first, targets[targets.length - 1].key),
                args: [chunk],
                typedSearchAttributes: runAttributes,
              }),
        );
      } else {
        tally(
          await executeChild(jobWorkflow, {
            workflowId: legacyIds.job(input.batch, input.runKey, first),
            args: [{ ...job, target: targets[0] }],
            typedSearchAttributes: [...runAttributes, { key: searchAttributes.targetKey, value: first }],
          }),
        );
      }
      return 'completed';
    } catch (err) {
      if (isCancellation(err)) throw err;
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        counts.skipped += targets.length;
        return 'duplicate';
      }
      if (!(err instanceof ActivityFailure) && !(err instanceof ChildWorkflowFailure)) throw err;
      counts.failed += targets.length;
      const steps = jobEndOf(err);
      if (steps.status === 'failed' && steps.steps) addSteps(steps.steps);
      return 'failed';
    }
  };

  const chunkInput = (targets: Target[], job: Omit<JobInput, 'target'>) => ({
    ...job,
    targets,
    concurrency: input.chunkConcurrency ?? DEFAULT_CHUNK_CONCURRENCY,
  });

  /** Adds a job's result (one target's, or a chunk's counts) to the run's. */
  function tally(result: JobResult | Omit<RunSummary, 'total'>) {
    if ('outcome' in result) counts[result.outcome]++;
    else {
      counts.succeeded += result.succeeded;
      counts.failed += result.failed;
      counts.skipped += result.skipped;
    }
    if (result.steps) addSteps(result.steps);
  }

  /** Adds one chain's step outcomes, or a chunk's step counts, to the run's. */
  function addSteps(steps: Record<string, StepOutcome> | StepCounts) {
    addStepCounts((counts.steps ??= {}), steps);
  }

  const historyIsLong = () => {
    const info = workflowInfo();
    return info.historyLength >= input.maxHistoryEvents || info.continueAsNewSuggested;
  };

  for (;;) {
    let page: Target[];
    try {
      page = await fetchTargets({
        source: input.source,
        batch: input.batch,
        runKey: input.runKey,
        params: input.params,
        after: cursor,
        upTo: input.upTo,
        limit: input.pageSize,
      });
    } catch (err) {
      queryFailed(err);
      break;
    }
    for (let i = 0; i < page.length; i += perChunk ? chunkSize : 1) {
      const targets = page.slice(i, perChunk ? i + chunkSize : i + 1);
      // Paused: dispatch nothing new until resumed or cancelled; the jobs in flight finish meanwhile.
      await condition(() => stopped !== undefined || (!paused && inFlight < window));
      if (stopped) break;
      // Dispatch at least one job per run, so a tiny history limit still makes progress.
      if (dispatchedHere > 0 && historyIsLong()) {
        // Children belong to this run: let them finish, then carry the counters and cursor over.
        await condition(() => inFlight === 0);
        if (stopped) break; // cancelled or past its threshold meanwhile: end here, not in a new run
        return continueAsNew<typeof triggerWorkflow>(input, {
          counts,
          cursor,
          continuedRuns: continuedRuns + 1,
          ...(paused ? { paused } : {}),
          ...(chunks ? { chunks } : {}),
        });
      }
      inFlight++;
      dispatchedHere++;
      counts.total += targets.length;
      cursor = targets[targets.length - 1].key;
      void dispatch(targets);
    }
    if (stopped || page.length < input.pageSize) break;
  }
  await condition(() => inFlight === 0);
  return finish();

  async function finish(): Promise<RunSummary> {
    if (stopped) counts.stopped = stopped;
    if (input.verify && isRun) counts.verified = await verify();
    if (counts.failed > 0 && isRun) {
      await runFailed({ batch: input.batch, runKey: input.runKey, workflowId: workflowInfo().workflowId, summary: counts });
    }
    if (input.onComplete && isRun) {
      await runCompleted({ batch: input.batch, runKey: input.runKey, workflowId: workflowInfo().workflowId, summary: counts });
    }
    done = true;
    if (isRun) metrics.createCounter('tju_runs_finished', '', 'Runs ended, by state').add(1, { state: stopped?.state ?? 'completed' });
    if (recordsHistory) await record({ state: stopped?.state ?? 'completed', finished: true, counts, reason: stopped?.reason });
    return counts;
  }

  /** Every target the query still selects has a ledger row per applicable step or an open failure record. */
  async function verify(): Promise<NonNullable<RunSummary['verified']>> {
    try {
      return await verifyRun({ batch: input.batch, runKey: input.runKey, params: input.params });
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      return { checked: 0, lost: 0, sample: [], error: (err.cause ?? err).message };
    }
  }
}

/**
 * How a job that threw ended. A per-target job that gave up recorded its failure and says its chain's steps
 * so far; anything else (terminated, timed out, a bulk chunk out of attempts) said nothing of its targets.
 */
function jobEndOf(err: unknown): JobEnd {
  if (err instanceof ChildWorkflowFailure) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure && cause.type === 'TargetFailed') {
      const steps = cause.details?.[1] as Record<string, StepOutcome> | undefined;
      return { status: 'failed', ...(steps ? { steps } : {}) };
    }
    return { status: 'ended', how: describeEnd(cause) };
  }
  if (err instanceof ActivityFailure) return { status: 'ended', how: `gave up: ${(err.cause ?? err).message}` };
  throw err;
}

const describeEnd = (cause: Error | undefined): string =>
  cause instanceof TerminatedFailure
    ? 'was terminated'
    : cause instanceof TimeoutFailure
      ? 'timed out'
      : `failed: ${cause?.message ?? 'unknown'}`;
