// Inputs and outputs of tju's workflows. Plain data only: they are stored in workflow histories,
// so changing a field's meaning is a breaking change for runs already in flight.
import type { Duration, RetryPolicy } from '@temporalio/common';

export interface RunSummary {
  total: number;
  succeeded: number;
  failed: number;
  skipped: number;
  /** Set when the run stopped before its last target: cancelled by an operator, or failed past its threshold. */
  stopped?: RunStop;
  /** Jobs cancelled in flight (`cancel --now`); not counted as failed. */
  cancelled?: number;
  /** A chain's outcomes per step (unit name). */
  steps?: StepCounts;
  /** What `verify` found at the end of the run (`trigger: { verify: true }`). */
  verified?: Verification;
  /** The canary's figures, once its targets finished (`trigger: { canary }`). */
  canary?: CanaryReport;
}

/**
 * A canary gate: the run does its first `targets` targets, then holds until a person resumes it, or goes on by
 * itself (`continue: 'auto'`) when no more than `maxFailureRatio` of them failed.
 */
export interface CanarySettings {
  targets: number;
  maxFailureRatio: number;
  continue: 'auto' | 'manual';
}

/** What a run's canary did, and what its gate decided. */
export interface CanaryReport {
  targets: number;
  succeeded: number;
  failed: number;
  skipped: number;
  /** At most the gate's ratio: `continued` by itself when the batch says so, else `waiting` for `tju resume`. */
  passed: boolean;
  maxFailureRatio: number;
  decision: 'continued' | 'waiting' | 'held';
  /** Milliseconds from each canary job's dispatch to its end (a target's job per-target; a chunk's otherwise). */
  jobMs: { p50: number; p99: number; jobs: number };
  /** The open failures of the canary by cause, the largest first (at most five). */
  groups: Array<{ group: string; unit: string; count: number }>;
}

/** Every target the target query still selects for a run, checked against the ledger and the failure records. */
export interface Verification {
  /** Targets the query selected. */
  checked: number;
  /** Of those, how many have neither a ledger row for each applicable step nor an open failure record. */
  lost: number;
  /** The first lost targets' keys, with the steps they miss. */
  sample: Array<{ key: string; missing: string[] }>;
  /** Set when the check itself could not finish (then the counts say nothing). */
  error?: string;
}

export interface RunStop {
  state: 'cancelled' | 'failed';
  reason: string;
}

/** What the trigger writes to tju's `run_history` table: its start, pauses, counts so far, its end. */
export interface RunRecordUpdate {
  batch: string;
  runKey: string;
  workflowId: string;
  /** The first execution's run ID: one row per run across continue-as-new. */
  executionId: string;
  kind: 'run' | 'retry';
  params: Record<string, unknown>;
  state: 'running' | 'paused' | 'completed' | 'failed' | 'cancelled';
  /** ISO time the run (its first execution) started. */
  startedAt: string;
  finished: boolean;
  counts?: RunSummary;
  reason?: string;
  /** The run's trace (OpenTelemetry), set by the worker that records it when tracing is on. */
  traceId?: string;
}

export interface RunProgress extends RunSummary {
  inFlight: number;
  /** Key of the last target dispatched. */
  cursor: string | null;
  /** How many times this run has continued as new so far. */
  continuedRuns: number;
  done: boolean;
  /** Dispatching no new jobs until resumed (jobs in flight finish). */
  paused?: boolean;
  /** Why the run paused itself: its canary gate, with the canary's figures in `canary`. */
  held?: string;
  /** Workflow IDs of the partition triggers still running, whose progress the client adds. */
  runningPartitions?: string[];
}

/**
 * How a job runs its target's units: its chain, each step's unit and how it runs, in order. A batch of one unit
 * is a chain of one. Planned with every default resolved.
 */
export interface JobSettings {
  steps: StepSettings[];
}

/** How the job runs one step: the workflow's view of a unit (its code stays in the worker). */
export interface StepSettings {
  unit: string;
  /** Resolved by the plan (src/contracts/retry.ts). */
  retry: RetryPolicy;
  /** Time one attempt may take; resolved by the plan. */
  timeout: Duration;
  /** A regular activity instead of a local one. */
  regular?: boolean;
  /** The activity's task queue: the unit's own, or (rate limited) `<job's queue>.<unit>`; unset: the job's. */
  taskQueue?: string;
  ownQueue?: boolean;
  heartbeatTimeout?: Duration;
}

/** What one step did for one target; `not-applicable`: its `when` left the target out. */
export type StepOutcome = 'succeeded' | 'skipped' | 'failed' | 'not-applicable';

/** Per step of a chain, how many targets each outcome. */
export type StepCounts = Record<string, Partial<Record<StepOutcome, number>>>;

/**
 * `per-target`: a child workflow per target. `per-chunk`: one per chunk of targets, each unit a local activity
 * of its own. `bulk`: one activity per chunk, each target still its own transaction, retries and record.
 */
export type Granularity = 'per-target' | 'per-chunk' | 'bulk';

/**
 * The generation of tju's workflow inputs: set by the plan on every trigger, job and chunk it starts. Runs of
 * tju 0.1 carry none, and a 0.2 worker refuses them with a message (workflows/engine.ts) instead of replaying
 * them on code whose commands differ.
 */
export const ENGINE = 2;

export interface TriggerInput {
  engine: typeof ENGINE;
  batch: string;
  runKey: string;
  params: Record<string, unknown>;
  /** Jobs (child workflows) in flight at once. */
  window: number;
  pageSize: number;
  maxHistoryEvents: number;
  job: JobSettings;
  granularity: Granularity;
  /** Targets per chunk (per-chunk and bulk). */
  chunkSize: number;
  /** Units running at once inside one chunk (per-chunk and bulk). */
  chunkConcurrency: number;
  /** Where targets come from: the batch's query (default), or the run's failure records (a retry). */
  source?: TargetSource;
  /** A retry's choice of open failures: one cause, or one target (unset: all of them). */
  failures?: FailureFilter;
  /** Key ranges run as child triggers of their own. */
  partitions?: number;
  /** Set on a partition's trigger: its index. The parent announces the run's end, not each partition. */
  partition?: number;
  /** This trigger's key range (a partition): keys > after and <= upTo. */
  after?: string | null;
  upTo?: string | null;
  /** The batch has an `onComplete` hook: the run calls it once at its end. */
  onComplete?: boolean;
  /** Stop dispatching and end the run as failed once more targets than this have failed. */
  maxFailures?: number;
  /** The same as a share of the targets finished, checked once `minTargets` have finished. */
  maxFailureRatio?: number;
  minTargets?: number;
  /** Check at the end that every target the query still selects is accounted for (`tju verify`). */
  verify?: boolean;
  /** Do this many targets first, then hold at a gate (nothing past them is dispatched before it opens). */
  canary?: CanarySettings;
  /**
   * Dispatch round-robin by the batch's fairness key (`job.fairnessKey`), at most `maxInFlightPerKey` targets of
   * one key in flight: the targets are staged once, then taken fairly (workflows/run/fairPages.ts).
   */
  fairness?: { maxInFlightPerKey: number };
}

export type TargetSource = 'query' | 'failures';

/** Which open failures a retry (or a clear) takes; every field given must match. */
export interface FailureFilter {
  /**
   * One failure group exactly, as `tju failures --groups` and the dashboard name it: its error with what varies
   * per target masked, and the step (unit) that gave up; without `unit`, the group in every step.
   */
  group?: { error: string; unit?: string };
  /** Errors whose `Type: message` contains this text, in any case: a person's free choice, shown before it acts. */
  error?: string;
  /** One target's key. */
  target?: string;
}

/** The Trigger's signature (workflows/trigger.ts), for the workflows that start it by name. */
export type TriggerWorkflow = (input: TriggerInput, state?: TriggerState) => Promise<RunSummary>;

/** Carried across continue-as-new. */
export interface TriggerState {
  counts: RunSummary;
  cursor: string | null;
  continuedRuns: number;
  paused?: boolean;
  /** Chunk jobs started so far: numbers each chunk's workflow ID. */
  chunks?: number;
  /** A fair run's queue: staged, and the pages taken so far. */
  fair?: FairCursor;
}

/** Where a fair run's trigger is in its queue. */
export interface FairCursor {
  staged: boolean;
  pages: number;
}

/** One fairness key's targets in a fair page. */
export interface FairGroup {
  fairnessKey: string;
  targets: Target[];
}

export interface Target {
  key: string;
  [column: string]: unknown;
}

export interface JobInput {
  engine: typeof ENGINE;
  batch: string;
  runKey: string;
  params: Record<string, unknown>;
  target: Target;
  settings: JobSettings;
}

/**
 * What the `runUnit` activity gets: one step of one target's job. Not the whole chain, to keep each activity's
 * input small: the step's index (which unit of the batch's chain) and its own settings.
 */
export interface UnitRequest extends Omit<JobInput, 'settings'> {
  step: number;
  settings: Pick<StepSettings, 'unit' | 'retry' | 'timeout'>;
}

export interface ChunkInput {
  engine: typeof ENGINE;
  batch: string;
  runKey: string;
  params: Record<string, unknown>;
  targets: Target[];
  settings: JobSettings;
  concurrency: number;
}

/**
 * A chunk as a job receives it (a bulk chunk's activity, a per-chunk job's workflow): its targets staged in
 * PostgreSQL, or inline (per-chunk chunks with a unit that runs as its own activity).
 */
export type ChunkJobInput = Omit<ChunkInput, 'targets'> & { targets: JobTargets };

/**
 * A chunk's targets as the trigger holds them: staged in PostgreSQL by the page fetch, so they cross no
 * history. Its row, how many targets, and the first and last keys (a per-chunk job's ID; the trigger's cursor).
 */
export interface StagedChunk {
  staged: string;
  count: number;
  first: string;
  last: string;
}

/** The targets of one job as the trigger dispatches them: the rows themselves, or a staged chunk. */
export type JobTargets = Target[] | StagedChunk;

/** Written when a job gives up on a target (tju_failures). */
export interface FailureRecord {
  batch: string;
  runKey: string;
  targetKey: string;
  unit: string;
  error: string;
  errorType: string;
  attempts: number;
  nonRetryable: boolean;
  /** The target row the job carried, for a retry. */
  target: Target;
}

export interface JobResult {
  outcome: 'succeeded' | 'skipped';
  /** A chain's outcome per step. */
  steps?: Record<string, StepOutcome>;
}

export interface FetchTargetsRequest {
  source?: TargetSource;
  failures?: FailureFilter;
  batch: string;
  runKey: string;
  params: Record<string, unknown>;
  after: string | null;
  upTo?: string | null;
  limit: number;
  /** Stage the page in PostgreSQL as chunks of this many targets; the fetch returns a `StagedPage`. */
  stageChunks?: number;
}

/**
 * A page the fetch cut short because its targets would not fit in one payload: more follow after its last key,
 * however few it holds. A page that fits is a plain array, as every page was before.
 */
export interface CutPage {
  targets: Target[];
  more: true;
}

/** A page staged as chunks; `more`: it was full, so more targets may follow its last key. */
export interface StagedPage {
  chunks: StagedChunk[];
  more: boolean;
}

/** What a schedule's run will start: the trigger of the run its scheduled time names. */
export interface ScheduledRunPlan {
  workflowId: string;
  input: TriggerInput;
}

/** How a job that another trigger had started already ended, as `awaitJob` saw it. */
export type JobEnd =
  | { status: 'completed'; result: JobResult | Omit<RunSummary, 'total'> }
  /** A per-target job that gave up: it recorded its failure; `steps` is its chain's outcomes so far. */
  | { status: 'failed'; steps?: Record<string, StepOutcome> }
  /** Ended without a result of its own (terminated, timed out, cancelled): its targets need settling. */
  | { status: 'ended'; how: string };

/** Targets whose job ended without saying what it did: the ledger says, and the rest get failure records. */
export interface SettleRequest {
  batch: string;
  runKey: string;
  params: Record<string, unknown>;
  /** The job's targets, or its staged chunk. */
  targets: JobTargets;
  /** Why their job ended: the failure record's error. */
  reason: { type: string; message: string };
}
