// tju's public API: define batches, run units, start and inspect runs, run workers.
export {
  dateParam,
  defineBatch,
  defineUnit,
  type Batch,
  type BatchDefinition,
  type Db,
  type JobOptions,
  type PartitionRequest,
  type TargetPage,
  type TargetRow,
  type TriggerOptions,
  type Unit,
  type UnitContext,
  type UnitOutcome,
} from './definitions';
export { NonRetryableError, UserError } from './errors';
export { logFailure, webhook, type FailureEvent, type FailureHook } from './notify';
export { TjuSchedules } from './temporal/schedules';
export { runUnit, type RunUnitOptions, type UnitResult } from './db/runUnit';
export { createPool } from './db/pool';
export { migrate } from './db/migrate';
export { listFailures, type StoredFailure } from './db/ledger';
export { loadConfig, type Config } from './config';
export { TjuClient, RunHandle, type RunStatus, type TjuClientOptions } from './temporal/client';
export { bundleWorkflows, createWorker, type TjuWorkerOptions } from './temporal/worker';
export type { RunProgress, RunSummary } from '../workflows/types';
