import type { Command } from 'commander';
import type { CliApp } from '../app';
import type { Batch } from '../../batch';
import type { Pool } from 'pg';
import { clearFailures, clearRun, countFailures, runRecords } from '../../db/ledger';
import { recordRunAction } from '../../db/runActions';
import type { FailureFilter } from '../../contracts/types';
import { cliActor } from '../actor';
import { describeFilter, describeTaken, failureFilterOf, failureFilterOptions, refuseAmbiguousGroup } from '../failureFilter';
import { resolveRun } from '../../plan';
import { UserError } from '../../errors';
import { addBatchCommands } from '../batchCommands';
import { follow, waitOption } from '../follow';
import { withDatabase, withSession } from '../session';

export function registerRetry(program: Command, app: CliApp): void {
  addBatchCommands(
    program.command('retry').description('process the failed targets of a finished run again, and only those'),
    app.batches,
    (command) => failureFilterOptions(waitOption(command)).option('--yes', 'with --error: really retry what the text takes'),
    async (batch, params, options) => {
      const { runKey } = resolveRun(batch, params);
      const failures = failureFilterOf(options);
      if (failures) {
        const run = { batch: batch.name, runKey };
        const taken = await withDatabase(app, (pool) => countFailures(pool, run, { filter: failures, schema: app.config.schema }));
        // A choice that takes nothing is a mistake to say, not an empty run to start.
        if (taken.total === 0) throw new UserError(`no open failure of ${batch.name} ${runKey}${describeFilter(failures)}`);
        refuseAmbiguousGroup(failures, taken);
        // Free text may take more than its author thought: it shows what it takes, and acts on --yes.
        if (failures.error !== undefined && !options.yes) {
          console.log(`would retry ${taken.total} failed target(s)${describeFilter(failures)}:`);
          for (const line of describeTaken(taken)) console.log(line);
          console.log('add --yes to retry them');
          return;
        }
        console.log(`retrying ${taken.total} failed target(s)${describeFilter(failures)}`);
      }
      await withSession(app, async ({ tju }) => {
        const run = await tju.retry(batch.name, params, { failures });
        await withDatabase(app, (pool) =>
          recordRunAction(
            pool,
            { batch: batch.name, runKey },
            'retry',
            cliActor(),
            { ...failures, workflowId: run.workflowId },
            app.config.schema,
          ),
        );
        await follow(run, options.wait, app);
      });
    },
  );
}

export function registerClear(program: Command, app: CliApp): void {
  const describe = (records: { ledger: number; failures: number }) =>
    `${records.ledger} ledger entr${records.ledger === 1 ? 'y' : 'ies'} and ${records.failures} failure record(s)`;

  /** Clears the run's progress records (never domain data); without --yes only says what it would clear. */
  const clear = async (batch: Batch, params: Record<string, string>, yes: unknown, failures?: FailureFilter): Promise<boolean> => {
    const { runKey } = resolveRun(batch, params);
    const state = await withSession(app, ({ tju }) => tju.run(batch.name, params).state());
    if (state === 'RUNNING') throw new UserError(`${batch.name}/${runKey} is running; clear it once it has finished`);
    return withDatabase(app, async (pool) => {
      if (failures) return clearChosen(pool, batch, runKey, yes, failures);
      const records = await runRecords(pool, { batch: batch.name, runKey }, app.config.schema);
      if (!state && records.ledger + records.failures === 0) {
        throw new UserError(`no run of ${batch.name} for ${runKey}: nothing to clear`);
      }
      if (!yes) {
        console.log(`would forget ${describe(records)} of ${batch.name} ${runKey}; add --yes to do it`);
        return false;
      }
      const forgot = await clearRun(pool, { batch: batch.name, runKey }, app.config.schema);
      await recordRunAction(pool, { batch: batch.name, runKey }, 'clear', cliActor(), { ...forgot }, app.config.schema);
      console.log(`forgot ${describe(forgot)} of ${batch.name} ${runKey}`);
      return true;
    });
  };

  /** Forgets only the failure records a filter takes; the ledger stays. */
  const clearChosen = async (pool: Pool, batch: Batch, runKey: string, yes: unknown, failures: FailureFilter): Promise<boolean> => {
    const run = { batch: batch.name, runKey };
    const query = { filter: failures, schema: app.config.schema };
    const chosen = await countFailures(pool, run, query);
    if (chosen.total === 0) throw new UserError(`no open failure of ${batch.name} ${runKey}${describeFilter(failures)}`);
    refuseAmbiguousGroup(failures, chosen);
    if (!yes) {
      console.log(`would forget ${chosen.total} failure record(s) of ${batch.name} ${runKey}${describeFilter(failures)}:`);
      for (const line of describeTaken(chosen)) console.log(line);
      console.log('add --yes to do it');
      return false;
    }
    const forgot = await clearFailures(pool, run, query);
    await recordRunAction(pool, { batch: batch.name, runKey }, 'clear', cliActor(), { ...failures, failures: forgot }, app.config.schema);
    console.log(`forgot ${forgot} failure record(s) of ${batch.name} ${runKey}${describeFilter(failures)}`);
    return true;
  };

  addBatchCommands(
    program.command('clear').description("forget a run's progress records so it can be processed from scratch"),
    app.batches,
    (command) =>
      failureFilterOptions(command.option('--yes', 'really clear; without it, only say what would be cleared')).addHelpText(
        'after',
        '\nWith --group, --error or --target, only the failure records they choose are forgotten (the ledger stays).',
      ),
    async (batch, params, options) => {
      await clear(batch, params, options.yes, failureFilterOf(options));
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
