import type { Command } from 'commander';
import type { CliApp } from '../app';
import { listFailures } from '../../db/ledger';
import { resolveRun } from '../../plan';
import { addBatchCommands } from '../batchCommands';
import { jsonOption, printJson } from '../format';
import { withDatabase } from '../session';

export function registerFailures(program: Command, app: CliApp): void {
  const failures = program
    .command('failures')
    .description(
      "list a run's failed targets: key, attempts, when, the unit (step) that gave up, its error, and the options their jobs carried",
    );
  addBatchCommands(failures, app.batches, jsonOption, async (batch, params, options) => {
    const { runKey } = resolveRun(batch, params);
    const rows = await withDatabase(app, (pool) => listFailures(pool, batch.name, runKey, app.config.schema));
    if (options.json) return printJson(rows);
    if (rows.length === 0) {
      console.log(`no failed targets for ${batch.name} ${runKey}`);
      return;
    }
    console.log(`${rows.length} failed target(s) for ${batch.name} ${runKey}:`);
    for (const f of rows) {
      const kind = f.nonRetryable ? ', not retried' : '';
      console.log(`  ${f.targetKey}  ${f.attempts} attempt(s)${kind}  ${f.failedAt.toISOString()}  ${f.unit}  ${f.errorType}: ${f.error}`);
      // The options its job carried, which a retry dispatches again.
      const options = Object.entries(f.target).filter(([column]) => column !== 'key');
      if (options.length) {
        console.log(
          `    ${options.map(([column, value]) => `${column}=${typeof value === 'string' ? value : JSON.stringify(value)}`).join(' ')}`,
        );
      }
    }
  });
}
