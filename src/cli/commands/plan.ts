import type { Command } from 'commander';
import type { CliApp } from '../app';
import { planRun, type RunPlan } from '../../dryRun';
import { resolveRun } from '../../plan';
import { addBatchCommands } from '../batchCommands';
import { jsonOption, printJson } from '../format';
import { withDatabase } from '../session';

const n = (value: number) => value.toLocaleString('en-US');

export function registerPlan(program: Command, app: CliApp): void {
  addBatchCommands(
    program
      .command('plan')
      .description('what a run would do — targets, steps, partitions, Temporal cost, duration — without starting or writing anything'),
    app.batches,
    jsonOption,
    async (batch, params, options) => {
      const run = resolveRun(batch, params);
      const plan = await withDatabase(app, (pool) => planRun(pool, run, {}, app.config.schema));
      if (options.json) printJson(plan);
      else printPlan(plan);
      // A row the run would refuse fails its page, and so the run: say so in the exit code too.
      if (plan.refused.count > 0) process.exitCode = 1;
    },
  );
}

function printPlan(plan: RunPlan): void {
  console.log(`${plan.batch} ${plan.runKey} (${plan.mode}): nothing started, nothing written`);
  console.log(`  ${n(plan.selected)} target(s) selected`);
  for (const step of plan.steps) console.log(`  step ${step.unit}: ${n(step.applies)} target(s)`);
  if (plan.fairness) {
    const { keys, moreKeys, largest, maxInFlightPerKey } = plan.fairness;
    console.log(
      `  fair by job.fairnessKey: ${moreKeys ? 'more than ' : ''}${n(keys)} key(s), the largest ${JSON.stringify(largest.key)} ` +
        `with ${n(largest.targets)} target(s); at most ${n(maxInFlightPerKey)} in flight per key`,
    );
  }
  for (const [i, p] of (plan.partitions ?? []).entries()) {
    console.log(`  partition ${i}: keys after ${p.after ?? '(start)'} up to ${p.upTo ?? '(end)'}: ${n(p.targets)} target(s)`);
  }
  const t = plan.temporal;
  console.log(
    `  Temporal: about ${n(t.actions)} action(s), ${n(t.historyEvents)} history event(s), ${n(Math.round(t.historyBytes / 1024))} KiB (${t.basis})`,
  );
  if ('none' in plan.estimate) console.log(`  duration: no estimate (${plan.estimate.none})`);
  else
    console.log(`  duration: about ${n(plan.estimate.seconds)} s at ${plan.estimate.targetsPerSecond} targets/s (${plan.estimate.basis})`);
  if (plan.refused.count > 0) {
    console.log(`  ${n(plan.refused.count)} row(s) the run would refuse, failing it:`);
    for (const example of plan.refused.examples) console.log(`    ${example}`);
  }
}
