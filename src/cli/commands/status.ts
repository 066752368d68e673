import type { Command } from 'commander';
import type { Batch } from '../../definitions';
import { resolveRun } from '../../plan';
import { addBatchCommands } from '../batchCommands';
import { formatCounts } from '../format';
import { withSession } from '../session';

export function registerStatus(program: Command, batches: readonly Batch[]): void {
  const status = program.command('status').description("print a run's progress, or its summary once finished");
  addBatchCommands(
    status,
    batches,
    (command) => command,
    async (batch, params) => {
      resolveRun(batch, params); // refuse bad params before connecting to anything
      await withSession(batches, async ({ tju }) => {
        const run = await tju.status(batch.name, params);
        console.log(`${run.workflowId}: ${run.state}`);
        if (run.counts) {
          const inFlight = 'inFlight' in run.counts ? `, in flight ${run.counts.inFlight}` : '';
          console.log(`  ${formatCounts(run.counts)}${inFlight}`);
        }
        if (run.uiUrl) console.log(`  ${run.uiUrl}`);
      });
    },
  );
}
