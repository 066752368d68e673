import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { TerminatedFailure, TimeoutFailure } from '@temporalio/common';
import { buildTriggerInput, resolveScheduledRun } from '../src/plan';
import { verifyRun } from '../src/verify';
import { failureGroups } from '../src/db/failureGroups';
import { runIdOf } from '../src/db/ledger';
import { TARGET_FAILED, targetFailedDetails } from '../src/contracts/details';
import { triggerWorkflowId } from '../src/contracts/ids';
import type { CanaryReport, JobEnd, ScheduledRunPlan, Verification } from '../src/contracts/types';
import { batchOf, type ActivityDeps } from './deps';

/** What a trigger asks of the world beside its targets: other workflows, its schedule, its verification. */
export function runActivities({ pool, batches, schema }: ActivityDeps) {
  return {
    /**
     * Waits for a job that another trigger of the run started under the same ID, and says how it ended: its
     * result, its recorded failure, or an end that said nothing of its targets.
     */
    async awaitJob({ workflowId }: { workflowId: string }): Promise<JobEnd> {
      const context = Context.current();
      // Well inside its 1-minute heartbeat timeout; a wait can last hours, and each beat reaches the server.
      const beat = setInterval(() => context.heartbeat(), 20_000);
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
        if (cause instanceof ApplicationFailure && cause.type === TARGET_FAILED) {
          const { steps } = targetFailedDetails.decode(cause.details);
          return { status: 'failed', ...(steps ? { steps } : {}) };
        }
        return { status: 'ended', how: endOf(cause) ?? `failed: ${cause?.message ?? err.message}` };
      } finally {
        clearInterval(beat);
      }
    },

    /** Params, run key and trigger input of the run a schedule started for its nominal time. */
    async planScheduledRun(request: { batch: string; scheduledAt: string }): Promise<ScheduledRunPlan> {
      const run = resolveScheduledRun(batchOf(batches, request.batch), new Date(request.scheduledAt));
      return { workflowId: triggerWorkflowId(run.batch.name, run.runKey), input: buildTriggerInput(run) };
    },

    /** A canary's open failures by cause, the five largest. */
    async canaryGroups(request: { batch: string; runKey: string }): Promise<CanaryReport['groups']> {
      const runId = await runIdOf(pool, request.batch, request.runKey, schema);
      const groups = await failureGroups(pool, runId, { limit: 5, samples: 0 }, schema);
      return groups.map(({ group, unit, count }) => ({ group, unit, count }));
    },

    /** `trigger: { verify: true }`: what `tju verify` says of the run, at its end. */
    async verifyRun(request: { batch: string; runKey: string; params: Record<string, unknown> }): Promise<Verification> {
      const context = Context.current();
      return verifyRun(pool, batchOf(batches, request.batch), request, { schema, onPage: (checked) => context.heartbeat(checked) });
    },
  };
}

const endOf = (cause: Error | undefined): string | undefined =>
  cause instanceof TerminatedFailure
    ? 'was terminated'
    : cause instanceof TimeoutFailure
      ? 'timed out'
      : cause instanceof CancelledFailure
        ? 'was cancelled'
        : undefined;
