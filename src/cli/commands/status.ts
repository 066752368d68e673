import type { Command } from 'commander';
import type { CliApp } from '../app';
import { runRecords } from '../../db/ledger';
import { resolveRun } from '../../plan';
import type { RunStatus } from '../../temporal/runStatus';
import { addBatchCommands, paramFlags } from '../batchCommands';
import { formatCounts, formatHook, formatSteps, jsonOption, printJson } from '../format';
import { withDatabase, withSession } from '../session';

export function registerStatus(program: Command, app: CliApp): void {
  const status = program
    .command('status')
    .description("print a run's progress, or its summary once finished, with its re-runs and recorded failures");
  addBatchCommands(status, app.batches, jsonOption, async (batch, params, options) => {
    const { runKey } = resolveRun(batch, params); // refuse bad params before connecting to anything
    await withDatabase(app, async (pool) => {
      const { failures } = await runRecords(pool, { batch: batch.name, runKey }, app.config.schema);
      await withSession(
        app,
        async ({ tju }) => {
          const run = await tju.status(batch.name, params);
          if (options.json) return printJson({ ...run, failuresRecorded: failures });
          console.log(`${run.workflowId}: ${run.state}${run.fromHistory ? ' (from run history)' : ''}`);
          printDetails(run, '  ');
          for (const rerun of run.reruns ?? []) {
            console.log(`  re-run started ${rerun.startTime?.toISOString()}: ${rerun.state}`);
            printDetails(rerun, '    ');
          }
          // What is still failed now: a retry or a re-run may have resolved the run's failures since.
          const failedEver = [run, ...(run.reruns ?? [])].some((r) => (r.counts?.failed ?? 0) > 0);
          if (failures > 0) {
            console.log(`  ${failures} target(s) still failed (open failure records): npx tju failures ${batch.name}${paramFlags(params)}`);
          } else if (failedEver) {
            console.log('  no target still failed: every failure was resolved since (by a retry or a re-run)');
          }
        },
        pool,
      );
    });
  });
}

function printDetails(run: RunStatus, indent: string): void {
  if (run.counts) {
    const inFlight = 'inFlight' in run.counts ? `, in flight ${run.counts.inFlight}` : '';
    console.log(`${indent}${formatCounts(run.counts)}${inFlight}`);
    for (const line of formatSteps(run.counts.steps, `${indent}  `)) console.log(line);
  }
  if (run.note) console.log(`${indent}${run.note}`);
  for (const problem of run.problems ?? []) console.log(`${indent}${problem}`);
  for (const hook of run.hooks ?? []) console.log(`${indent}${formatHook(hook)}`);
  if (run.uiUrl) console.log(`${indent}${run.uiUrl}`);
}
