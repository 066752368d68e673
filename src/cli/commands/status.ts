import type { Command } from 'commander';
import type { CliApp } from '../app';
import { runRecords } from '../../db/ledger';
import { resolveRun } from '../../plan';
import type { Pool } from 'pg';
import { finishedStatus, type RunStatus } from '../../temporal/runStatus';
import { WebUiLinks } from '../../temporal/webUi';
import { listRunRecords } from '../../db/runHistory';
import { hookProblems } from '../../hooks/outbox';
import { triggerWorkflowId } from '../../contracts/ids';
import { uiUrlFor } from '../../config';
import { addBatchCommands } from '../batchCommands';
import { paramFlags } from '../../util/commandFlags';
import { describeBreaker, openBreakers } from '../../db/breakers';
import { stepsOf } from '../../batch';
import { formatCanary, formatCounts, formatHook, formatSteps, jsonOption, printJson } from '../format';
import { withDatabase, withSession } from '../session';

/** Starts of one run key read from the history for a status: more would be a key re-run by hand in a loop. */
const MAX_STARTS = 100;

export function registerStatus(program: Command, app: CliApp): void {
  const status = program
    .command('status')
    .description("print a run's progress, or its summary once finished, with its re-runs and recorded failures");
  const flags = (command: Command) =>
    jsonOption(command).option('--live', 'ask Temporal even when the run history says every start of the run key has ended');
  addBatchCommands(status, app.batches, flags, async (batch, params, options) => {
    const { runKey } = resolveRun(batch, params); // refuse bad params before connecting to anything
    await withDatabase(app, async (pool) => {
      const { failures } = await runRecords(pool, { batch: batch.name, runKey }, app.config.schema);
      const units = stepsOf(batch).map((step) => step.unit.name);
      const breakers = await openBreakers(pool, units, app.config.schema);
      // A run key whose every start has ended is answered from the run history: no Temporal client to load or reach.
      const recorded = options.live ? undefined : await recordedStatus(app, pool, batch.name, runKey);
      const run = recorded ?? (await withSession(app, ({ tju }) => tju.status(batch.name, params), pool));
      if (options.json) return printJson({ ...run, failuresRecorded: failures, breakers });
      console.log(`${run.workflowId}: ${run.state}${run.fromHistory ? ' (from run history)' : ''}`);
      printDetails(run, '  ');
      // A unit's open breaker holds every run of it back, whichever started first.
      for (const breaker of breakers) console.log(`  ${describeBreaker(breaker)}: its attempts wait (none is spent)`);
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
    });
  });
}

/** The run key's status from the run history when every start has ended there, with its undelivered hooks. */
async function recordedStatus(app: CliApp, pool: Pool, batch: string, runKey: string): Promise<RunStatus | undefined> {
  const { config } = app;
  const links = new WebUiLinks(uiUrlFor(config, config.temporal.address), config.temporal.namespace);
  const workflowId = triggerWorkflowId(batch, runKey);
  const records = await listRunRecords(pool, batch, { runKey, limit: MAX_STARTS }, config.schema);
  if (records.length === MAX_STARTS) return undefined; // some starts not read: Temporal lists them all
  const run = finishedStatus(records, workflowId, (runId) => links.workflow(workflowId, runId));
  if (!run) return undefined;
  const hooks = await hookProblems(pool, batch, runKey, config.schema);
  return hooks.length ? { ...run, hooks } : run;
}

function printDetails(run: RunStatus, indent: string): void {
  if (run.counts) {
    const inFlight = 'inFlight' in run.counts ? `, in flight ${run.counts.inFlight}` : '';
    console.log(`${indent}${formatCounts(run.counts)}${inFlight}`);
    for (const line of formatSteps(run.counts.steps, `${indent}  `)) console.log(line);
    if (run.counts.canary) for (const line of formatCanary(run.counts.canary, indent)) console.log(line);
  }
  if (run.build) console.log(`${indent}pinned to build ${run.build} (Worker Versioning): its workers must run until it ends`);
  if (run.note) console.log(`${indent}${run.note}`);
  for (const problem of run.problems ?? []) console.log(`${indent}${problem}`);
  for (const hook of run.hooks ?? []) console.log(`${indent}${formatHook(hook)}`);
  if (run.uiUrl) console.log(`${indent}${run.uiUrl}`);
}
