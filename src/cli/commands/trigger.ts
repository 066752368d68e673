import type { Command } from 'commander';
import type { Batch } from '../../definitions';
import { resolveRun } from '../../plan';
import { addBatchCommands } from '../batchCommands';
import { follow, waitOption } from '../follow';
import { withSession } from '../session';

export function registerTrigger(program: Command, batches: readonly Batch[]): void {
  addBatchCommands(
    program.command('trigger').description('start a run of a batch (or join the one running)'),
    batches,
    waitOption,
    async (batch, params, options) => {
      resolveRun(batch, params); // refuse bad params before connecting to anything
      await withSession(batches, async ({ tju }) => follow(await tju.trigger(batch.name, params), options.wait));
    },
  );
}
