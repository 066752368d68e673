// tju's public API: define batches, run units, start and inspect runs, run workers.
export { dateParam, localDate } from './dates';
export {
  defineBatch,
  stepsOf,
  type Batch,
  type BatchDefinition,
  type ChainStep,
  type JobOptions,
  type PartitionRequest,
  type ScheduleOptions,
  type Step,
  type TargetPage,
  type TargetRow,
  type TriggerOptions,
} from './batch';
export { defineUnit, type Db, type Unit, type UnitContext, type UnitDefinition, type UnitOutcome } from './unit';
export { NonRetryableError, UserError } from './errors';
export { defineConfig, type TjuConfig } from './appConfig';
export { runCli, type CliOptions } from './cli/main';
export { createProgressBar } from './cli/progressBar';
export { connectClient, connectWorker } from './temporal/connect';
export { ensureSearchAttributes } from './temporal/searchAttributes';
export { logFailure, webhook, type CompletionHook, type FailureEvent, type FailureHook, type HookRetry, type RunCompleted } from './hooks';
export { startHookDelivery, type HookDelivery, type HookDeliveryOptions } from './hooks/delivery';
export { TjuSchedules } from './temporal/schedules';
export { runUnit, type RunUnitOptions, type UnitResult } from './db/runUnit';
export { createPool, describeUrl } from './db/pool';
export { migrate } from './db/migrate';
export { listFailures, type StoredFailure } from './db/ledger';
export { loadConfig, uiUrlFor, type Config } from './config';
export { logger } from './log';
export { TjuClient, type TjuClientOptions } from './temporal/client';
export type { DispatchedJob } from './temporal/dispatch';
export type { RunPlan } from './dryRun';
export { RunHandle } from './temporal/runHandle';
export type { RunStatus } from './temporal/runStatus';
export { bundleWorkflows, createUnitWorkers, createWorker, unitQueuesOf, type TjuWorkerOptions, type UnitQueue } from './temporal/worker';
export type { RunProgress, RunSummary, StepCounts, StepOutcome, Verification } from './contracts/types';
export { EncryptionCodec, codecFromEnv } from './codec';
export { createCodecServer } from './temporal/codecServer';
export { createDashboard, dashboardListener, serveDashboard, type DashboardOptions } from './dashboard';
export { installRuntime, type RuntimeOptions } from './temporal/runtime';
export { listRunRecords, type RunRecord } from './db/runHistory';
export { pruneRuns, type LiveRuns, type PruneCounts, type PruneResult, type PruneScope } from './db/prune';
export { verifyRun } from './verify';
