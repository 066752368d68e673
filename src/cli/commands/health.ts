import os from 'node:os';
import type { Command } from 'commander';
import type { CliApp } from '../app';
import { parseDuration } from '../../config';
import { pollersOf, type QueueKind } from '../../temporal/pollers';
import { taskQueuesOf } from '../../temporal/workerProcess';
import { duration } from '../parsers';
import { withSession } from '../session';

interface HealthFlags {
  taskQueue?: string;
  host: string;
  maxPollAge: string;
}

/**
 * `tju health`: exit 0 when a worker on this host polls every task queue the app's worker polls, for a
 * container healthcheck. A worker that started but lost Temporal, or wedged, stops polling, and its last
 * poll ages past `--max-poll-age` (an idle worker polls again at least every minute).
 */
export function registerHealth(program: Command, app: CliApp): void {
  program
    .command('health')
    .description("exit 0 if this host's tju worker polls its task queues (for container healthchecks), else 1 with the queue that waits")
    .option('--task-queue <names>', 'comma-separated queues to check (default: the ones `tju worker` polls)')
    .option('--host <name>', "the worker's host name, as in its identity <pid>@<host>", os.hostname())
    .option('--max-poll-age <duration>', 'a last poll older than this counts as not polling', duration, '3m')
    .action(async (flags: HealthFlags) => {
      const queues =
        flags.taskQueue
          ?.split(',')
          .map((q) => q.trim())
          .filter(Boolean) ?? taskQueuesOf(app.batches, app.config.taskQueue);
      const maxAgeMs = parseDuration(flags.maxPollAge)!;
      const problems = await withSession(app, async ({ client }) => {
        const found: string[] = [];
        for (const queue of queues) {
          for (const kind of ['workflow', 'activity'] as QueueKind[]) {
            const ours = (await pollersOf(client, queue, kind)).filter((p) => p.identity.endsWith(`@${flags.host}`));
            const age = Date.now() - Math.max(0, ...ours.map((p) => p.lastPollMs));
            if (ours.length === 0) found.push(`no worker on ${flags.host} polls ${kind} task queue '${queue}'`);
            else if (age > maxAgeMs)
              found.push(`the worker on ${flags.host} last polled ${kind} task queue '${queue}' ${Math.round(age / 1000)} s ago`);
          }
        }
        return found;
      });
      if (problems.length > 0) {
        console.error(`tju: unhealthy: ${problems.join('; ')}`);
        process.exitCode = 1;
      } else console.log(`healthy: a worker on ${flags.host} polls ${queues.join(', ')}`);
    });
}
