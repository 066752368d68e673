import { ActivityFailure, CancellationScope, getExternalWorkflowHandle, setHandler } from '@temporalio/workflow';
import { addStepCounts } from '../../src/contracts/chain';
import { cancelSignal, pauseSignal, resumeSignal, type CancelRequest } from '../../src/contracts/controls';
import { progressQuery } from '../../src/contracts/controls';
import type {
  FairCursor,
  JobResult,
  RunProgress,
  RunStop,
  RunSummary,
  StepCounts,
  StepOutcome,
  TriggerInput,
  TriggerState,
} from '../../src/contracts/types';

/**
 * One trigger's run as it goes: its counts and cursor (carried across continue-as-new), what is in flight,
 * and the operators' controls — the `progress` query and the pause, resume and cancel signals, which a
 * partitioned run passes on to its partitions.
 */
export class RunState {
  readonly counts: RunSummary;
  cursor: string | null;
  /** Chunk jobs started so far in this trigger's chain: numbers their workflow IDs. */
  chunks: number;
  readonly continuedRuns: number;
  paused: boolean;
  /** Why the run paused itself (its canary gate); cleared when it resumes. */
  holdReason: string | undefined;
  stopped: RunStop | undefined;
  /** Its target query has no page left: the canary was the whole run. */
  exhausted = false;
  inFlight = 0;
  /** Jobs ended so far in this trigger: a fair run with no target to take waits for the next. */
  jobsEnded = 0;
  /** A fair run's targets in flight per fairness key. */
  readonly inFlightByKey = new Map<string, number>();
  /** A fair run's place in its queue, carried across continue-as-new. */
  fair: FairCursor | undefined;
  done = false;
  readonly runningPartitions = new Set<string>();
  readonly jobsInFlight = new Set<CancellationScope>();
  /** The run's own trigger, not a partition's: it records the run's history and calls its hooks. */
  readonly isRun: boolean;

  constructor(
    readonly input: TriggerInput,
    state?: TriggerState,
  ) {
    this.counts = state ? { ...state.counts } : { total: 0, succeeded: 0, failed: 0, skipped: 0 };
    this.cursor = state?.cursor ?? input.after ?? null;
    this.chunks = state?.chunks ?? 0;
    this.continuedRuns = state?.continuedRuns ?? 0;
    this.paused = state?.paused ?? false;
    this.fair = state?.fair;
    this.isRun = input.partition === undefined;
  }

  /** Answers the progress query and obeys the control signals. None adds a command until one arrives. */
  listen(): void {
    setHandler(progressQuery, (): RunProgress => this.progress());
    setHandler(pauseSignal, () => {
      this.paused = true;
      this.forward((partition) => partition.signal(pauseSignal));
    });
    setHandler(resumeSignal, () => {
      this.paused = false;
      this.holdReason = undefined;
      this.forward((partition) => partition.signal(resumeSignal));
    });
    setHandler(cancelSignal, (request: CancelRequest) => {
      this.stop({ state: 'cancelled', reason: request.reason ?? 'cancelled by an operator' });
      this.paused = false;
      this.holdReason = undefined;
      if (request.now) for (const job of this.jobsInFlight) job.cancel();
      this.forward((partition) => partition.signal(cancelSignal, request));
    });
  }

  progress(): RunProgress {
    return {
      ...this.counts,
      ...(this.stopped ? { stopped: this.stopped } : {}),
      inFlight: this.inFlight,
      cursor: this.cursor,
      continuedRuns: this.continuedRuns,
      done: this.done,
      ...(this.paused ? { paused: this.paused } : {}),
      ...(this.holdReason ? { held: this.holdReason } : {}),
      ...(this.runningPartitions.size ? { runningPartitions: [...this.runningPartitions] } : {}),
    };
  }

  /** Pauses the run by itself, saying why, until an operator resumes or cancels it. */
  hold(reason: string): void {
    this.paused = true;
    this.holdReason = reason;
  }

  /** Ends the run early; the first reason stands. */
  stop(stop: RunStop): void {
    this.stopped ??= stop;
  }

  /** Its target query failed for good: the run ends, as it could not tell what is left to do. */
  queryFailed(err: unknown): void {
    if (!(err instanceof ActivityFailure)) throw err;
    this.stop({ state: 'failed', reason: `target query failed: ${(err.cause ?? err).message}` });
  }

  /** Stops dispatching once failures pass the batch's threshold; jobs in flight still finish. */
  checkThreshold(): void {
    const { counts, input } = this;
    const finished = counts.succeeded + counts.failed + counts.skipped;
    if (this.stopped || counts.failed === 0) return;
    if (input.maxFailures !== undefined && counts.failed > input.maxFailures) {
      this.stop({ state: 'failed', reason: `${counts.failed} targets failed, more than maxFailures ${input.maxFailures}` });
    } else if (
      input.maxFailureRatio !== undefined &&
      finished >= (input.minTargets ?? 1) &&
      counts.failed / finished > input.maxFailureRatio
    ) {
      this.stop({
        state: 'failed',
        reason: `${counts.failed} of ${finished} targets failed, more than maxFailureRatio ${input.maxFailureRatio}`,
      });
    }
  }

  /** Adds a job's result (one target's, or a chunk's or a partition's counts) to the run's. */
  tally(result: JobResult | Omit<RunSummary, 'total'>): void {
    if ('outcome' in result) this.counts[result.outcome]++;
    else {
      this.counts.succeeded += result.succeeded;
      this.counts.failed += result.failed;
      this.counts.skipped += result.skipped;
      if (result.cancelled) this.counts.cancelled = (this.counts.cancelled ?? 0) + result.cancelled;
    }
    if (result.steps) this.addSteps(result.steps);
  }

  /** Adds one chain's step outcomes, or a chunk's step counts, to the run's. */
  addSteps(steps: Record<string, StepOutcome> | StepCounts): void {
    addStepCounts((this.counts.steps ??= {}), steps);
  }

  /** What the next run of the chain carries over (continue-as-new). */
  carried(): TriggerState {
    return {
      counts: this.counts,
      cursor: this.cursor,
      continuedRuns: this.continuedRuns + 1,
      ...(this.paused ? { paused: this.paused } : {}),
      ...(this.chunks ? { chunks: this.chunks } : {}),
      ...(this.fair ? { fair: this.fair } : {}),
    };
  }

  /** Passes a control on to the partition triggers still running (each controls its own jobs). */
  private forward(send: (partition: ReturnType<typeof getExternalWorkflowHandle>) => Promise<void>): void {
    for (const workflowId of this.runningPartitions) void send(getExternalWorkflowHandle(workflowId)).catch(() => undefined);
  }
}
