import { setMaxListeners } from 'node:events';
import { CancelledFailure, Context } from '@temporalio/activity';
import type { RetryPolicy } from '@temporalio/common';
import { addStepCounts, chainOf, chainOutcome, type Chain } from '../src/contracts/chain';
import { bulkProgress } from '../src/contracts/details';
import { NON_RETRYABLE_ERROR, nextRetryDelay, resolveRetry } from '../src/contracts/retry';
import type { ChunkInput, FailureRecord, RunSummary, StepOutcome } from '../src/contracts/types';
import { BreakerOpenError } from '../src/errors';

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
  const chain = chainOf(input.settings);
  const progress = new ChunkProgress(chain, context, input.targets.length);
  const run = { deps, input, chain, context, progress, policies: chain.steps.map((step) => resolveRetry(step.retry)) };
  // Alive while a target waits out a retry's backoff, too.
  const ticker = setInterval(() => progress.beat(true), 3000);
  try {
    const lanes = Math.max(1, Math.min(input.concurrency, progress.remaining()));
    // Each lane's unit listens for the chunk's cancellation: as many listeners as lanes is expected, not a leak.
    setMaxListeners(Math.max(10, lanes + 2), context.cancellationSignal);
    await Promise.all(Array.from({ length: lanes }, () => runLane(run)));
  } finally {
    clearInterval(ticker);
  }
  progress.beat(true);
  return progress.counts;
}

/** One chunk's run, as its lanes share it. */
interface ChunkRun {
  deps: BulkDeps;
  input: ChunkInput;
  chain: Chain;
  context: Context;
  progress: ChunkProgress;
  /** Each step's retry policy: the same Temporal applies to the other modes' activities, over tju's defaults. */
  policies: RetryPolicy[];
}

/**
 * Which of a chunk's targets are finished, and the resume point a heartbeat carries: every target before
 * `prefix` is counted; those after it that lanes finished already wait in `results`. A retried attempt starts
 * from the last heartbeat's details.
 */
class ChunkProgress {
  readonly counts: Omit<RunSummary, 'total'>;
  private readonly results: Map<number, Record<string, StepOutcome>>;
  private prefix: number;
  private next: number;
  private lastBeat = 0;

  constructor(
    private readonly chain: Chain,
    private readonly context: Context,
    private readonly size: number,
  ) {
    const resumed = bulkProgress.decode(context.info.heartbeatDetails);
    this.counts = resumed?.counts ?? { succeeded: 0, failed: 0, skipped: 0 };
    this.results = new Map(Object.entries(resumed?.ahead ?? {}).map(([i, o]) => [Number(i), o]));
    this.prefix = this.next = resumed?.next ?? 0;
  }

  /** Targets not yet taken by a lane, finished ones included: an upper bound on the lanes worth starting. */
  remaining = (): number => this.size - this.next;

  /** The next target no lane has taken and no earlier attempt finished. */
  take(): number | undefined {
    while (this.next < this.size && this.results.has(this.next)) this.next++;
    return this.next < this.size ? this.next++ : undefined;
  }

  finished(index: number, outcomes: Record<string, StepOutcome>): void {
    this.results.set(index, outcomes);
  }

  /** Folds the finished prefix into the counts and, at most twice a second unless forced, heartbeats it. */
  beat(force = false): void {
    for (let outcomes; (outcomes = this.results.get(this.prefix)); this.prefix++) {
      this.results.delete(this.prefix);
      this.counts[Object.values(outcomes).includes('failed') ? 'failed' : chainOutcome(outcomes)]++;
      if (this.chain.countsSteps) addStepCounts((this.counts.steps ??= {}), outcomes);
    }
    // Each call converts the details and crosses into the SDK's core; twice a second is plenty (the core sends
    // at most one a second anyway: HEARTBEAT_THROTTLE_MS). A local activity (a per-chunk job's chunk) has none.
    if (this.context.info.isLocal || (!force && Date.now() - this.lastBeat < 500)) return;
    this.lastBeat = Date.now();
    // A copy: the SDK may send the details later, when `counts` has moved on.
    const details = { next: this.prefix, counts: this.counts, ahead: Object.fromEntries(this.results) };
    this.context.heartbeat(bulkProgress.encode(structuredClone(details)));
  }
}

/** One lane: one connection, taking targets until none is left or the chunk is cancelled. */
async function runLane(run: ChunkRun): Promise<void> {
  const { deps, input, chain, context, progress } = run;
  const lane = deps.lane();
  let reserved: number | undefined;
  // After a target's last step comes the lane's next target, taken now (so no other lane claims it meanwhile).
  const upcoming = (index: number, step: number) => (): UpcomingStep | undefined => {
    if (step + 1 < chain.steps.length) return { target: input.targets[index], step: step + 1 };
    if (context.cancellationSignal.aborted) return undefined;
    reserved ??= progress.take();
    return reserved === undefined ? undefined : { target: input.targets[reserved], step: 0 };
  };
  try {
    for (;;) {
      if (context.cancellationSignal.aborted) throw new CancelledFailure('bulk chunk cancelled');
      const index = reserved ?? progress.take();
      reserved = undefined;
      if (index === undefined) return;
      progress.finished(index, await runTarget(run, lane, index, upcoming));
      progress.beat();
    }
  } finally {
    await lane.close();
  }
}

/** One target's chain in a lane: each step with its retries; a step that gives up records the failure and stops it. */
async function runTarget(
  { deps, input, chain, context, progress, policies }: ChunkRun,
  lane: BulkLane,
  index: number,
  upcoming: (index: number, step: number) => () => UpcomingStep | undefined,
): Promise<Record<string, StepOutcome>> {
  const target = input.targets[index];
  const outcomes: Record<string, StepOutcome> = {};
  // A unit's own heartbeat only says the chunk is alive: its details must never replace the resume point.
  const keepAlive = () => progress.beat();
  for (const [stepIndex, step] of chain.steps.entries()) {
    const after = upcoming(index, stepIndex);
    const result = await withRetries(policies[stepIndex], (attempt) => lane.runStep(target, stepIndex, attempt, keepAlive, after), context);
    if (!('error' in result)) {
      outcomes[step.unit] = result.outcome;
      continue;
    }
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
  return outcomes;
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
      // Refused by the unit's open circuit breaker: not an attempt; the chunk's ticker keeps it alive meanwhile.
      if (err instanceof BreakerOpenError) {
        await context.sleep(err.retryAfterMs);
        attempt--;
        continue;
      }
      const error = err instanceof Error ? err : new Error(String(err));
      const delay = nextRetryDelay(policy, attempt, { type: error.name });
      if (delay === undefined) return { error, attempts: attempt, nonRetryable: error.name === NON_RETRYABLE_ERROR };
      await context.sleep(delay);
    }
  }
}
