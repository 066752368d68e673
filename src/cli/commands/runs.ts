import type { Command } from 'commander';
import type { CliApp } from '../app';
import { formatCounts, formatHook, jsonOption, printJson } from '../format';
import { withDatabase, withSession } from '../session';
import { positiveInt } from '../parsers';

export function registerRuns(program: Command, app: CliApp): void {
  addRuns(program.command('runs').description('list the recent runs of a batch with their state and counts'), app);
}

function addRuns(runs: Command, app: CliApp): void {
  for (const batch of app.batches) {
    jsonOption(runs.command(batch.name).option('--limit <n>', 'how many runs', positiveInt, 20)).action(
      async (options: { limit: number; json?: boolean }) => {
        await withDatabase(app, (pool) =>
          withSession(
            app,
            async ({ tju }) => {
              const list = await tju.runs(batch.name, options.limit);
              if (options.json) return printJson(list);
              if (list.length === 0) console.log(`no runs of ${batch.name}`);
              for (const run of list) {
                const counts = run.counts ? `  ${formatCounts(run.counts)}` : run.note ? `  (${run.note})` : '';
                const recorded = run.fromHistory ? ' (from run history)' : '';
                console.log(`${run.workflowId}  ${run.state}${recorded}  ${run.startTime?.toISOString()}${counts}`);
                for (const line of [...(run.problems ?? []), ...(run.hooks ?? []).map(formatHook)]) console.log(`  ${line}`);
              }
            },
            pool,
          ),
        );
      },
    );
  }
}
