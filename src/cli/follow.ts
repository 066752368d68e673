import type { Command } from 'commander';
import { isUnreadablePayload, unreadableNote } from '../codec';
import { logger } from '../log';
import { listRunRecords } from '../db/runHistory';
import type { RunHandle } from '../temporal/runHandle';
import { noWorkerNote } from '../temporal/runStatus';
import type { RunSummary } from '../contracts/types';
import type { CliApp } from './app';
import { formatCounts, formatSteps, runNeedsAttention } from './format';
import { createProgressBar } from './progressBar';
import { withDatabase } from './session';

export const waitOption = (command: Command): Command =>
  command.option('--wait', 'follow the run with a progress bar; exit 1 if a target failed or the run stopped failed');

/** How often `--wait` asks why a run does not move (no worker, a failing query). */
const WATCH_MS = 3000;

/** Prints where a run is; with `wait`, follows it to the end and sets exit code 1 when it needs attention. */
export async function follow(run: RunHandle, wait: unknown, app: CliApp): Promise<void> {
  console.log(`started ${run.workflowId}`);
  if (run.uiUrl) console.log(run.uiUrl);
  // The run is started either way; without a worker it waits, and a person should know why nothing moves.
  if (!(await run.workerPolling())) console.error(`tju: ${noWorkerNote(run.taskQueue)}; the run waits for one`);
  if (!wait) return;
  const bar = createProgressBar(run.workflowId);
  const watching = watch(run, (line) => bar.log(`tju: ${line}`));
  let summary: RunSummary | undefined;
  try {
    summary = await run
      .wait((progress) => bar.update(progress))
      .finally(() => {
        watching.stop();
        bar.stop();
      });
  } catch (err) {
    if (!isUnreadablePayload(err)) throw err;
    // The run ended; only its summary is unreadable here. Its end is in the run history, in plain text.
    console.error(`tju: warning: ${unreadableNote(err)}; reading the run's end from its run history`);
    summary = await recordedEnd(app, run).catch(() => undefined);
    if (!summary) {
      const state = await run.state();
      console.log(`${run.workflowId}: ${state}`);
      if (state !== 'COMPLETED') process.exitCode = 1;
      return;
    }
  }
  console.log(formatCounts(summary));
  for (const line of formatSteps(summary.steps, '  ')) console.log(line);
  if (runNeedsAttention(summary)) process.exitCode = 1;
}

/**
 * While a run is followed, says (once each time it changes) what holds it up: no worker polling its task
 * queue, an activity being retried (its target query failing), with the last error.
 */
function watch(run: RunHandle, say: (line: string) => void): { stop(): void } {
  let said = '';
  let stopped = false;
  const look = async () => {
    const lines = await run.problems().catch(() => []);
    logger.debug({ problems: lines.length }, 'looked at what holds the run up');
    // Said again only when what holds the run up changes, not each time its seconds do.
    const now = lines.join('\n').replace(/\d+/g, '#');
    if (now !== said && !stopped) for (const line of lines) say(line);
    said = now;
  };
  const timer = setInterval(() => void look(), WATCH_MS);
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}

/** The counts the run's trigger recorded at its end, in tju's run history. */
async function recordedEnd(app: CliApp, run: RunHandle): Promise<RunSummary | undefined> {
  const records = await withDatabase(app, (pool) => listRunRecords(pool, run.batch, { runKey: run.runKey }, app.config.schema));
  return records.find((record) => record.workflowId === run.workflowId && record.finishedAt !== null)?.counts ?? undefined;
}
