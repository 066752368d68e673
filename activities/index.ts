import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import { recordFailure, type FailureRecord } from '../src/db/ledger';
import { NonRetryableError } from '../src/errors';
import type { BatchRegistry } from '../src/registry';
import type { FetchTargetsRequest, JobInput, Target } from '../workflows/types';

export interface ActivityDeps {
  pool: Pool;
  batches: BatchRegistry;
}

/** The activities behind tju's workflows: the only place they touch PostgreSQL. */
export function createActivities({ pool, batches }: ActivityDeps) {
  return {
    /** One keyset page of the Trigger's query. */
    async fetchTargets(request: FetchTargetsRequest): Promise<Target[]> {
      const batch = batches.get(request.batch);
      const rows = await batch.targets(pool, {
        params: request.params,
        runKey: request.runKey,
        after: request.after,
        limit: request.limit,
      });
      return rows.map((row: Target) => ({ ...row, key: String(row.key) }));
    },

    /** One target's Unit, in one transaction, recorded in the ledger under the job's idempotency key. */
    async runUnit(job: JobInput): Promise<'succeeded' | 'skipped'> {
      const batch = batches.get(job.batch);
      const { attempt } = Context.current().info;
      try {
        const { outcome } = await batch.unit.execute(pool, batch.job.input(job.target, job.params), {
          idempotencyKey: { batch: job.batch, runKey: job.runKey, targetKey: job.target.key },
          attempt,
        });
        return outcome;
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        // The attempt number rides along so the job can record how many tries the target got.
        throw ApplicationFailure.create({
          type: error.name,
          message: error.message,
          nonRetryable: error instanceof NonRetryableError,
          details: [{ attempt, unit: batch.unit.name }],
        });
      }
    },

    async recordFailure(failure: FailureRecord): Promise<void> {
      await recordFailure(pool, failure);
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
