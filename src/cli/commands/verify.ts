import type { Command } from 'commander';
import type { CliApp } from '../app';
import { resolveRun } from '../../plan';
import { verifyRun } from '../../verify';
import { addBatchCommands } from '../batchCommands';
import { formatVerification, jsonOption, printJson } from '../format';
import { withDatabase } from '../session';

/**
 * `tju verify <batch>`: proves a run complete, or names what it lost. Every target the batch's query still
 * selects for the run key must have a ledger row for each step that applies to it, or an open failure record;
 * the others are listed, and the command exits 1.
 */
export function registerVerify(program: Command, app: CliApp): void {
  addBatchCommands(
    program
      .command('verify')
      .description('check that every target the query selects for a run has a ledger row per step or an open failure; exit 1 if not'),
    app.batches,
    jsonOption,
    async (batch, params, options) => {
      const run = resolveRun(batch, params);
      const result = await withDatabase(app, (pool) => verifyRun(pool, batch, run, { schema: app.config.schema, sampleSize: 1000 }));
      if (options.json) printJson({ batch: batch.name, runKey: run.runKey, ...result });
      else {
        console.log(`${batch.name} ${run.runKey}: ${formatVerification({ ...result, sample: result.sample.slice(0, 20) })}`);
        for (const lost of result.sample)
          console.log(`  lost ${lost.key}: no ledger row for ${lost.missing.join(', ')} and no open failure`);
        if (result.lost > result.sample.length) console.log(`  … and ${result.lost - result.sample.length} more`);
      }
      if (result.lost > 0) process.exitCode = 1;
    },
  );
}
