import type { Command } from 'commander';
import type { CliApp } from '../app';
import { listFailures, runIdOf } from '../../db/ledger';
import { failureGroups } from '../../db/failureGroups';
import { reading } from '../../db/transaction';
import { resolveRun } from '../../plan';
import { addBatchCommands } from '../batchCommands';
import { retryGroupCommand } from '../../util/commandFlags';
import { failureFilterOf, failureFilterOptions } from '../failureFilter';
import { jsonOption, printJson } from '../format';
import { withDatabase } from '../session';

export function registerFailures(program: Command, app: CliApp): void {
  const failures = program
    .command('failures')
    .description(
      "list a run's failed targets: key, attempts, when, the unit (step) that gave up, its error, and the options their jobs carried",
    );
  addBatchCommands(
    failures,
    app.batches,
    (command) => failureFilterOptions(jsonOption(command)).option('--groups', 'one line per cause: count, step, first and last seen'),
    async (batch, params, options) => {
      const { runKey } = resolveRun(batch, params);
      const filter = failureFilterOf(options);
      if (options.groups) {
        const groups = await withDatabase(app, async (pool) =>
          reading(pool, async (tx) => failureGroups(tx, await runIdOf(pool, batch.name, runKey, app.config.schema), {}, app.config.schema)),
        );
        if (options.json) return printJson(groups);
        if (groups.length === 0) console.log(`no failed targets for ${batch.name} ${runKey}`);
        for (const g of groups) {
          console.log(`${String(g.count).padStart(7)}  ${g.unit}  ${g.group}`);
          console.log(
            `         first ${g.firstSeen.toISOString()}  last ${g.lastSeen.toISOString()}  e.g. ${g.samples.map((x) => x.targetKey).join(', ')}`,
          );
          console.log(`         retry: ${retryGroupCommand(batch.name, params, g)}`);
        }
        return;
      }
      const rows = await withDatabase(app, (pool) =>
        listFailures(pool, { batch: batch.name, runKey }, { filter, schema: app.config.schema }),
      );
      if (options.json) return printJson(rows);
      if (rows.length === 0) {
        console.log(`no failed targets for ${batch.name} ${runKey}`);
        return;
      }
      console.log(`${rows.length} failed target(s) for ${batch.name} ${runKey}:`);
      for (const f of rows) {
        const kind = f.nonRetryable ? ', not retried' : '';
        console.log(
          `  ${f.targetKey}  ${f.attempts} attempt(s)${kind}  ${f.failedAt.toISOString()}  ${f.unit}  ${f.errorType}: ${f.error}`,
        );
        // The options its job carried, which a retry dispatches again.
        const options = Object.entries(f.target).filter(([column]) => column !== 'key');
        if (options.length) {
          console.log(
            `    ${options.map(([column, value]) => `${column}=${typeof value === 'string' ? value : JSON.stringify(value)}`).join(' ')}`,
          );
        }
      }
    },
  );
}
