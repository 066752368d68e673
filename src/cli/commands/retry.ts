import type { Command } from 'commander';
import type { CliApp } from '../app';
import type { Batch } from '../../batch';
import { clearRun, runRecords } from '../../db/ledger';
import { resolveRun } from '../../plan';
import { UserError } from '../../errors';
import { addBatchCommands } from '../batchCommands';
import { follow, waitOption } from '../follow';
import { withDatabase, withSession } from '../session';

export function registerRetry(program: Command, app: CliApp): void {
  addBatchCommands(
    program.command('retry').description('process the failed targets of a finished run again, and only those'),
    app.batches,
    waitOption,
    async (batch, params, options) => {
      resolveRun(batch, params);
      await withSession(app, async ({ tju }) => follow(await tju.retry(batch.name, params), options.wait, app));
    },
  );
}

export function registerClear(program: Command, app: CliApp): void {
  const describe = (records: { ledger: number; failures: number }) =>
    `${records.ledger} ledger entr${records.ledger === 1 ? 'y' : 'ies'} and ${records.failures} failure record(s)`;

  /** Clears the run's progress records (never domain data); without --yes only says what it would clear. */
  const clear = async (batch: Batch, params: Record<string, string>, yes: unknown): Promise<boolean> => {
    const { runKey } = resolveRun(batch, params);
    const state = await withSession(app, ({ tju }) => tju.run(batch.name, params).state());
    if (state === 'RUNNING') throw new UserError(`${batch.name}/${runKey} is running; clear it once it has finished`);
    return withDatabase(app, async (pool) => {
      const records = await runRecords(pool, batch.name, runKey, app.config.schema);
      if (!state && records.ledger + records.failures === 0) {
        throw new UserError(`no run of ${batch.name} for ${runKey}: nothing to clear`);
      }
      if (!yes) {
        console.log(`would forget ${describe(records)} of ${batch.name} ${runKey}; add --yes to do it`);
        return false;
      }
      console.log(`forgot ${describe(await clearRun(pool, batch.name, runKey, app.config.schema))} of ${batch.name} ${runKey}`);
      return true;
    });
  };

  addBatchCommands(
    program.command('clear').description("forget a run's progress records so it can be processed from scratch"),
    app.batches,
    (command) => command.option('--yes', 'really clear; without it, only say what would be cleared'),
    async (batch, params, options) => {
      await clear(batch, params, options.yes);
    },
  );

  addBatchCommands(
    program.command('refresh').description('clear a run, then trigger it again'),
    app.batches,
    (command) => waitOption(command.option('--yes', 'really clear; without it, only say what would be cleared')),
    async (batch, params, options) => {
      if (!(await clear(batch, params, options.yes))) return;
      await withSession(app, async ({ tju }) => follow(await tju.trigger(batch.name, params), options.wait, app));
    },
  );
}
