import type { Command } from 'commander';
import type { CliApp } from '../app';
import { dateParam, startOfDayIn } from '../../dates';
import { UserError } from '../../errors';
import { BatchRegistry } from '../../registry';
import { TjuSchedules } from '../../temporal/schedules';
import { jsonOption, printJson } from '../format';
import { withDatabase, withSession } from '../session';
import { recordOperatorEvent, type OperatorEventKind } from '../../db/operatorEvents';
import { cliActor } from '../actor';

const date = (flag: string, value: string): string => {
  const parsed = dateParam().safeParse(value);
  if (!parsed.success) throw new UserError(`${flag}: ${parsed.error.issues[0].message} (got ${JSON.stringify(value)})`);
  return parsed.data;
};

export function registerSchedule(program: Command, app: CliApp): void {
  const registry = new BatchRegistry(app.batches);
  const schedule = program.command('schedule').description("manage the batches' Temporal Schedules");
  const withSchedules = <T>(fn: (schedules: TjuSchedules) => Promise<T>) =>
    withSession(app, ({ client, config }) => fn(new TjuSchedules(client, app.batches, config.taskQueue)));
  /** Who changed a schedule, and when, beside the runs' own actions. */
  const record = (kind: OperatorEventKind, batch: string, detail: Record<string, unknown> = {}) =>
    withDatabase(app, (pool) => recordOperatorEvent(pool, { kind, actor: cliActor(), batch, detail }, app.config.schema));
  /** Validates the batch name before connecting. */
  const known = (name: string) => registry.get(name).name;

  schedule
    .command('apply')
    .description('create or update the schedules the code declares')
    .option('--prune', 'also delete tju schedules whose batch no longer declares one')
    .action(async (options: { prune?: boolean }) => {
      const changes = await withSchedules((s) => s.apply({ prune: options.prune }));
      for (const { batch, change } of changes) console.log(`${change} ${batch}`);
      if (changes.length === 0) console.log('no batch declares a schedule');
    });

  jsonOption(schedule.command('list').description('the schedules, their state, next and recent runs')).action(
    async (options: { json?: boolean }) => {
      const list = await withSchedules((s) => s.list());
      if (options.json) return printJson(list);
      for (const s of list) {
        const state = s.paused ? `paused${s.note ? ` (${s.note})` : ''}` : 'active';
        const when = [...s.cron, ...s.calendar.map((c) => `calendar ${JSON.stringify(c)}`)].join(', ');
        console.log(`${s.batch}  ${when} ${s.timezone}  ${state}`);
        if (s.nextRuns[0]) console.log(`  next: ${s.nextRuns[0].toISOString()}`);
        for (const run of s.recentRuns.slice(-3)) console.log(`  ran:  ${run.scheduledAt.toISOString()} ${run.workflowId}`);
      }
    },
  );

  for (const verb of ['pause', 'unpause'] as const) {
    schedule
      .command(`${verb} <batch>`)
      .description(`${verb} a batch's schedule`)
      .option('--note <text>', 'why, shown in list and the Web UI')
      .action(async (name: string, options: { note?: string }) => {
        const batch = known(name);
        await withSchedules((s) => s[verb](batch, options.note));
        await record(`schedule-${verb}`, batch, options.note ? { note: options.note } : {});
        console.log(`${verb}d ${batch}`);
      });
  }

  schedule
    .command('trigger <batch>')
    .description("start a scheduled run now (for today), under the schedule's overlap policy")
    .action(async (name: string) => {
      const batch = known(name);
      await withSchedules((s) => s.trigger(batch));
      await record('schedule-trigger', batch);
      console.log(`triggered ${batch}`);
    });

  schedule
    .command('backfill <batch>')
    .description('run every start the schedule would have made from --from to --to (dates in its time zone)')
    .requiredOption('--from <date>', 'first day, YYYY-MM-DD')
    .requiredOption('--to <date>', 'last day, YYYY-MM-DD')
    .action(async (name: string, options: { from: string; to: string }) => {
      const batch = registry.get(name);
      if (!batch.schedule) throw new UserError(`${batch.name} declares no schedule`);
      const from = date('--from', options.from);
      const to = date('--to', options.to);
      if (to < from) throw new UserError(`--to ${to} is before --from ${from}`);
      const timezone = batch.schedule.timezone ?? 'UTC';
      const dayAfter = new Date(Date.parse(`${to}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
      await withSchedules((s) => s.backfill(batch.name, startOfDayIn(from, timezone), startOfDayIn(dayAfter, timezone)));
      await record('schedule-backfill', batch.name, { from, to });
      console.log(`backfilling ${batch.name} from ${from} to ${to} (${timezone}), one run after another`);
    });
}
