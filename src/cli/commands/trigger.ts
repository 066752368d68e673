import type { Command } from 'commander';
import type { Batch } from '../../definitions';
import { resolveRun } from '../../params';
import { addBatchCommands } from '../batchCommands';
import { formatCounts } from '../format';
import { createProgressBar } from '../progressBar';
import { openSession } from '../session';

export function registerTrigger(program: Command, batches: readonly Batch[]): void {
  const trigger = program.command('trigger').description('start a run of a batch (or join the one running)');
  addBatchCommands(
    trigger,
    batches,
    (command) => command.option('--wait', 'follow the run with a progress bar; exit 1 if any target failed'),
    async (batch, params, options) => {
      resolveRun(batch, params); // refuse bad params before connecting to anything
      const session = await openSession(batches);
      try {
        const run = await session.tju.trigger(batch.name, params);
        console.log(`started ${run.workflowId}`);
        if (run.uiUrl) console.log(run.uiUrl);
        if (!options.wait) return;
        const bar = createProgressBar(run.workflowId);
        const summary = await run.wait((progress) => bar.update(progress)).finally(() => bar.stop());
        console.log(formatCounts(summary));
        if (summary.failed > 0) process.exitCode = 1;
      } finally {
        await session.close();
      }
    },
  );
}
