import type { CalendarSpec, Client, ScheduleOptions as TemporalScheduleOptions } from '@temporalio/client';
import type { Batch, ScheduleOptions } from '../batch';
import { UserError } from '../errors';
import { BatchRegistry } from '../registry';
import { priorityOption } from './startTrigger';

const OVERLAP = {
  skip: 'SKIP',
  'buffer-one': 'BUFFER_ONE',
  'buffer-all': 'BUFFER_ALL',
  'cancel-other': 'CANCEL_OTHER',
  'terminate-other': 'TERMINATE_OTHER',
  'allow-all': 'ALLOW_ALL',
} as const;

/** Marks schedules as tju's, so `apply --prune` removes only its own. */
const MEMO_KEY = 'tjuBatch';

/** A batch's schedule ID is its name: `temporal schedule describe --schedule-id billing.issue-invoices`. */
export const scheduleId = (batch: string): string => batch;

export interface ScheduleChange {
  batch: string;
  change: 'created' | 'updated' | 'deleted';
}

export interface ScheduleSummary {
  batch: string;
  paused: boolean;
  note?: string;
  cron: string[];
  calendar: CalendarSpec[];
  timezone: string;
  nextRuns: Date[];
  recentRuns: Array<{ scheduledAt: Date; workflowId: string }>;
}

/** Creates, updates and lists the Temporal Schedules that batches declare in code. */
export class TjuSchedules {
  private readonly batches: BatchRegistry;

  constructor(
    private readonly client: Client,
    batches: readonly Batch[],
    private readonly taskQueue: string,
  ) {
    this.batches = new BatchRegistry(batches);
  }

  private options(batch: Batch, schedule: ScheduleOptions): TemporalScheduleOptions {
    return {
      scheduleId: scheduleId(batch.name),
      spec: {
        cronExpressions: schedule.cron ? ([] as string[]).concat(schedule.cron) : undefined,
        calendars: schedule.calendar,
        timezone: schedule.timezone ?? 'UTC',
        jitter: schedule.jitter,
      },
      action: {
        type: 'startWorkflow',
        workflowType: 'scheduledRunWorkflow',
        workflowId: `${batch.name}/scheduled`,
        taskQueue: batch.taskQueue ?? this.taskQueue,
        args: [{ batch: batch.name }],
        ...priorityOption(batch.priority),
      },
      policies: {
        overlap: OVERLAP[schedule.overlap ?? 'skip'],
        catchupWindow: schedule.catchupWindow ?? '1 day',
      },
      memo: { [MEMO_KEY]: batch.name },
    };
  }

  /** Makes the server's schedules match the code, idempotently; `prune` deletes tju schedules no batch declares. */
  async apply({ prune = false } = {}): Promise<ScheduleChange[]> {
    const changes: ScheduleChange[] = [];
    const declared = this.batches.all().filter((batch) => batch.schedule);
    for (const batch of declared) {
      const options = this.options(batch, batch.schedule!);
      const handle = this.client.schedule.getHandle(options.scheduleId);
      try {
        await handle.describe();
      } catch (err) {
        if ((err as Error)?.name !== 'ScheduleNotFoundError') throw err;
        await this.client.schedule.create(options);
        changes.push({ batch: batch.name, change: 'created' });
        continue;
      }
      // Update keeps the schedule's state (paused, note) and history; only spec, action and policies change.
      await handle.update((previous) => ({
        ...previous,
        spec: options.spec,
        action: options.action,
        policies: { ...previous.policies, ...options.policies },
      }));
      changes.push({ batch: batch.name, change: 'updated' });
    }
    if (prune) {
      const keep = new Set(declared.map((batch) => scheduleId(batch.name)));
      for await (const schedule of this.client.schedule.list()) {
        if (schedule.memo?.[MEMO_KEY] === undefined || keep.has(schedule.scheduleId)) continue;
        await this.client.schedule.getHandle(schedule.scheduleId).delete();
        changes.push({ batch: String(schedule.memo[MEMO_KEY]), change: 'deleted' });
      }
    }
    return changes;
  }

  async list(): Promise<ScheduleSummary[]> {
    const summaries: ScheduleSummary[] = [];
    for (const batch of this.batches.all().filter((b) => b.schedule)) {
      summaries.push(await this.describe(batch.name));
    }
    return summaries;
  }

  async describe(batchName: string): Promise<ScheduleSummary> {
    const description = await this.handle(batchName).describe();
    const declared = this.batches.get(batchName).schedule!;
    return {
      batch: batchName,
      paused: description.state.paused,
      note: description.state.note,
      // The server keeps cron as structured calendars; show what the code declares.
      cron: declared.cron ? ([] as string[]).concat(declared.cron) : [],
      calendar: declared.calendar ?? [],
      timezone: description.spec.timezone ?? 'UTC',
      nextRuns: description.info.nextActionTimes,
      recentRuns: description.info.recentActions.map((action) => ({
        scheduledAt: action.scheduledAt,
        workflowId: action.action.workflow.workflowId,
      })),
    };
  }

  pause = (batch: string, note?: string) => this.handle(batch).pause(note);
  unpause = (batch: string, note?: string) => this.handle(batch).unpause(note);

  /** Starts a run now, as if scheduled now; the schedule's overlap policy applies. */
  trigger = (batch: string) => this.handle(batch).trigger();

  /** Runs every start the schedule would have made in [from, to), one after another, each for its own time. */
  backfill = (batch: string, from: Date, to: Date) => this.handle(batch).backfill({ start: from, end: to, overlap: 'BUFFER_ALL' });

  private handle(batchName: string) {
    const batch = this.batches.get(batchName);
    if (!batch.schedule) throw new UserError(`${batch.name} declares no schedule`);
    return this.client.schedule.getHandle(scheduleId(batch.name));
  }
}
