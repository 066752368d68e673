import { CancelledFailure, Context } from '@temporalio/activity';
import type { RetryPolicy } from '@temporalio/common';
import { addStepCounts, chainOf, chainOutcome } from '../src/contracts/chain';
import { bulkProgress } from '../src/contracts/details';
import { NON_RETRYABLE_ERROR, nextRetryDelay, resolveRetry } from '../src/contracts/retry';
import type { ChunkInput, FailureRecord, RunSummary, StepOutcome } from '../src/contracts/types';

/** A target's step that a lane runs next: its claim can open in the same round trip as the current COMMIT. */
export interface UpcomingStep {
  target: ChunkInput['targets'][number];
  step: number;
}

/** What one lane of a chunk runs its targets' steps with: one connection, held while a transaction is open. */
export interface BulkLane {
  /**
   * Runs one step of one target as the regular path does (ledger, lost connections, metrics); `keepAlive` is
   * what the unit's `ctx.heartbeat()` calls: it keeps the chunk alive and leaves its resume point alone.
   * `upcoming` says which step the lane runs after this one, if it knows.
   */
  runStep(
    target: ChunkInput['targets'][number],
    step: number,
    attempt: number,
    keepAlive: (details?: unknown) => void,
    upcoming: () => UpcomingStep | undefined,
  ): Promise<Exclude<StepOutcome, 'failed'>>;
  /** Gives back the lane's connection, rolling back a claim it opened for a step it did not run. */
  close(): Promise<void>;
}

export interface BulkDeps {
  lane(): BulkLane;
  /** Writes the target's failure record and queues its failure event. */
  recordFailure(failure: FailureRecord): Promise<void>;
}

/**
 * The bulk granularity: one regular activity per chunk. Each target keeps its own transaction and ledger row
 * per step, its retry policy (attempts and backoff, here in the activity), its failure record and its count;
 * `concurrency` targets run at once. The activity heartbeats the index before which every target is finished,
 * so a retry after a worker crash or timeout resumes there (the ledger makes a target run again harmless
 * anyway), and it stops between targets when cancelled. A lane takes its next target when it commits the
 * current one, so that target's claim rides on the same round trip (src/db/session.ts).
 */
export async function runBulkChunk(deps: BulkDeps, input: ChunkInput): Promise<Omit<RunSummary, 'total'>> {
  const context = Context.current();
  const resumed = bulkProgress.decode(context.info.heartbeatDetails);
  const counts: Omit<RunSummary, 'total'> = resumed?.counts ?? { succeeded: 0, failed: 0, skipped: 0 };
  const chain = chainOf(input.settings);
  const steps = chain.steps;
  // The same policy Temporal applies to the other granularities' activities, field by field over tju's defaults.
  const policies = steps.map((step) => resolveRetry(step.retry));
  // Outcomes of finished targets not yet folded into `counts` (the prefix has not reached them).
  const results = new Map<number, Record<string, StepOutcome>>(Object.entries(resumed?.ahead ?? {}).map(([i, o]) => [Number(i), o]));
  let prefix = resumed?.next ?? 0;
  let next = prefix;
  let lastBeat = 0;
  const beat = (force = false) => {
    for (let outcomes; (outcomes = results.get(prefix)); prefix++) {
      results.delete(prefix);
      counts[Object.values(outcomes).includes('failed') ? 'failed' : chainOutcome(outcomes)]++;
      if (chain.countsSteps) addStepCounts((counts.steps ??= {}), outcomes);
    }
    // Each call converts the details and crosses into the SDK's core; twice a second is plenty (the core sends
    // at most one a second anyway: HEARTBEAT_THROTTLE_MS). A local activity (a per-chunk job's chunk) has none.
    if (context.info.isLocal || (!force && Date.now() - lastBeat < 500)) return;
    lastBeat = Date.now();
    // A copy: the SDK may send the details later, when `counts` has moved on.
    context.heartbeat(bulkProgress.encode(structuredClone({ next: prefix, counts, ahead: Object.fromEntries(results) })));
  };

  // A unit's own heartbeat only says the chunk is alive: its details must never replace the resume point.
  const keepAlive = () => beat();

  const runTarget = async (lane: BulkLane, index: number, upcoming: (index: number, step: number) => () => UpcomingStep | undefined) => {
    const target = input.targets[index];
    const outcomes: Record<string, StepOutcome> = {};
    for (const [stepIndex, step] of steps.entries()) {
      const after = upcoming(index, stepIndex);
      const result = await withRetries(
        policies[stepIndex],
        (attempt) => lane.runStep(target, stepIndex, attempt, keepAlive, after),
        context,
      );
      if ('error' in result) {
        outcomes[step.unit] = 'failed';
        await deps.recordFailure({
          batch: input.batch,
          runKey: input.runKey,
          targetKey: target.key,
          unit: step.unit,
          error: result.error.message,
          errorType: result.error.name,
          attempts: result.attempts,
          nonRetryable: result.nonRetryable,
          target,
        });
        break;
      }
      outcomes[step.unit] = result.outcome;
    }
    results.set(index, outcomes);
  };

  /** The next target no lane has taken and no earlier attempt finished. */
  const take = (): number | undefined => {
    while (next < input.targets.length && results.has(next)) next++;
    return next < input.targets.length ? next++ : undefined;
  };

  const runLane = async () => {
    const lane = deps.lane();
    let reserved: number | undefined;
    // After a target's last step comes the lane's next target, taken now (so no other lane claims it meanwhile).
    const upcoming = (index: number, step: number) => (): UpcomingStep | undefined => {
      if (step + 1 < steps.length) return { target: input.targets[index], step: step + 1 };
      if (context.cancellationSignal.aborted) return undefined;
      reserved ??= take();
      return reserved === undefined ? undefined : { target: input.targets[reserved], step: 0 };
    };
    try {
      for (;;) {
        if (context.cancellationSignal.aborted) throw new CancelledFailure('bulk chunk cancelled');
        const index = reserved ?? take();
        reserved = undefined;
        if (index === undefined) return;
        await runTarget(lane, index, upcoming);
        beat();
      }
    } finally {
      await lane.close();
    }
  };
  // Alive while a target waits out a retry's backoff, too.
  const ticker = setInterval(() => beat(true), 3000);
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(input.concurrency, input.targets.length - next)) }, runLane));
  } finally {
    clearInterval(ticker);
  }
  beat(true);
  return counts;
}

/** Attempts `work` as the retry policy says (src/contracts/retry.ts): backoff between attempts, none after a non-retryable error. */
async function withRetries<T>(
  policy: RetryPolicy,
  work: (attempt: number) => Promise<T>,
  context: Context,
): Promise<{ outcome: T } | { error: Error; attempts: number; nonRetryable: boolean }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { outcome: await work(attempt) };
    } catch (err) {
      // The chunk was cancelled: its units are stopped, not failed, and nothing is retried.
      if (context.cancellationSignal.aborted) throw err;
      const error = err instanceof Error ? err : new Error(String(err));
      const delay = nextRetryDelay(policy, attempt, { type: error.name });
      if (delay === undefined) return { error, attempts: attempt, nonRetryable: error.name === NON_RETRYABLE_ERROR };
      await context.sleep(delay);
    }
  }
}
