import type { Command } from 'commander';
import type { CliApp } from '../app';
import type { Batch, TriggerOptions } from '../../batch';
import { buildTriggerInput, resolveRun } from '../../plan';
import { addBatchCommands } from '../batchCommands';
import { follow, waitOption } from '../follow';
import { positiveInt } from '../parsers';
import { withSession } from '../session';

export function registerTrigger(program: Command, app: CliApp): void {
  addBatchCommands(
    program.command('trigger').description('start a run of a batch (or join the one running)'),
    app.batches,
    (command) =>
      waitOption(command).option(
        '--canary <n>',
        "do the first n targets, then hold at a gate: `tju resume` opens it (the batch's canary.continue 'auto' opens it when they pass)",
        positiveInt,
      ),
    async (batch, params, options) => {
      const overrides = canaryOverride(batch, options.canary as number | undefined);
      // Bad params or settings are refused before connecting to anything.
      buildTriggerInput(resolveRun(batch, params), overrides);
      await withSession(app, async ({ tju }) => follow(await tju.trigger(batch.name, params, overrides), options.wait, app));
    },
  );
}

/** `--canary n`: the batch's canary settings with n targets (or a canary of n with the defaults). */
const canaryOverride = (batch: Batch, targets: number | undefined): TriggerOptions =>
  targets === undefined ? {} : { canary: { ...batch.trigger?.canary, targets } };
