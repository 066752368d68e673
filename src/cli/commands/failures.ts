import type { Command } from 'commander';
import type { CliApp } from '../app';
import type { Batch } from '../../definitions';
import { listFailures } from '../../db/ledger';
import { resolveRun } from '../../plan';
import { addBatchCommands } from '../batchCommands';
import { withDatabase } from '../session';

export function registerFailures(program: Command, app: CliApp): void {
  const failures = program.command('failures').description("list a run's failed targets: key, attempts, last error, when");
  addBatchCommands(
    failures,
    app.batches,
    (command) => command,
    async (batch, params) => {
      const { runKey } = resolveRun(batch, params);
      const rows = await withDatabase(app, (pool) => listFailures(pool, batch.name, runKey, app.config.schema));
      if (rows.length === 0) {
        console.log(`no failed targets for ${batch.name} ${runKey}`);
        return;
      }
      console.log(`${rows.length} failed target(s) for ${batch.name} ${runKey}:`);
      for (const f of rows) {
        const kind = f.nonRetryable ? ', not retried' : '';
        console.log(`  ${f.targetKey}  ${f.attempts} attempt(s)${kind}  ${f.failedAt.toISOString()}  ${f.errorType}: ${f.error}`);
      }
    },
  );
}
