import type { Command } from 'commander';
import type { CliApp } from '../app';
import type { Batch } from '../../batch';
import { resolveRun } from '../../plan';
import type { RunHandle } from '../../temporal/runHandle';
import type { RunProgress } from '../../contracts/types';
import { addBatchCommands } from '../batchCommands';
import { paramFlags } from '../../util/commandFlags';
import { formatCounts } from '../format';
import { withDatabase, withSession } from '../session';
import { recordRunAction } from '../../db/runActions';
import { cliActor } from '../actor';

/** How long a command waits for the run's worker to confirm what a control did, before saying it was sent. */
const CONFIRM_MS = 5000;

type Control = (
  run: RunHandle,
  batch: Batch,
  params: Record<string, string>,
  options: Record<string, unknown>,
) => Promise<Record<string, unknown>>;

/** `tju pause|resume|cancel <batch>`: operators' controls of a running run, sent as signals to its trigger. */
export function registerControl(program: Command, app: CliApp): void {
  const control = (name: string, description: string, configure: (c: Command) => Command, act: Control) =>
    addBatchCommands(program.command(name).description(description), app.batches, configure, async (batch, params, options) => {
      const { runKey } = resolveRun(batch, params); // refuse bad params before connecting to anything
      const detail = await withSession(app, ({ tju }) => act(tju.run(batch.name, params), batch, params, options));
      // Recorded beside the run's history, as the dashboard's buttons are; the control itself is done either way.
      await withDatabase(app, (pool) =>
        recordRunAction(pool, { batch: batch.name, runKey }, name, cliActor(), detail, app.config.schema),
      ).catch((err: Error) => console.error(`tju: warning: ${name} was sent but not recorded in the run's actions: ${err.message}`));
    });

  control(
    'pause',
    'stop dispatching new jobs of a running run (and of its retry); jobs in flight finish',
    (c) => c,
    async (run, batch, params) => {
      const workflows = await run.pause();
      for (const workflowId of workflows) {
        const progress = await confirmed(run, workflowId, (p) => p.paused === true);
        console.log(`paused ${workflowId}${progress ? `: ${progress.inFlight} job(s) in flight finish` : ' (signal sent)'}`);
      }
      console.log(`continue it with: tju resume ${batch.name}${paramFlags(params)}`);
      return { workflows };
    },
  );

  control(
    'resume',
    'continue a paused run (and its retry) from where it stopped',
    (c) => c,
    async (run) => {
      const workflows = await run.resume();
      for (const workflowId of workflows) {
        await confirmed(run, workflowId, (p) => !p.paused);
        console.log(`resumed ${workflowId}`);
      }
      return { workflows };
    },
  );

  control(
    'cancel',
    'stop a running run: dispatch nothing more, end it with its summary',
    (c) =>
      c
        .option('--now', 'also cancel the jobs in flight instead of letting them finish')
        .option('--reason <text>', "recorded in the run's summary"),
    async (run, _batch, _params, options) => {
      const cancelled = await run.cancel({ now: options.now === true, reason: options.reason as string | undefined });
      for (const workflowId of cancelled) {
        console.log(`cancelling ${workflowId}${options.now ? ' and its jobs in flight' : '; jobs in flight finish'}...`);
        console.log(formatCounts(await run.resultOf(workflowId)));
      }
      return { workflows: cancelled, now: options.now === true, ...(options.reason ? { reason: options.reason } : {}) };
    },
  );
}

/** A trigger's progress once `check` holds, or undefined when its worker does not confirm in time. */
async function confirmed(run: RunHandle, workflowId: string, check: (progress: RunProgress) => boolean): Promise<RunProgress | undefined> {
  const deadline = Date.now() + CONFIRM_MS;
  while (Date.now() < deadline) {
    const progress = await run.progressOf(workflowId).catch(() => undefined);
    if (progress && check(progress)) return progress;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return undefined;
}
