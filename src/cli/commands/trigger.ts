import type { Command } from 'commander';
import type { CliApp } from '../app';
import { resolveRun } from '../../plan';
import { addBatchCommands } from '../batchCommands';
import { follow, waitOption } from '../follow';
import { withSession } from '../session';

export function registerTrigger(program: Command, app: CliApp): void {
  addBatchCommands(
    program.command('trigger').description('start a run of a batch (or join the one running)'),
    app.batches,
    waitOption,
    async (batch, params, options) => {
      resolveRun(batch, params); // refuse bad params before connecting to anything
      await withSession(app, async ({ tju }) => follow(await tju.trigger(batch.name, params), options.wait, app));
    },
  );
}
