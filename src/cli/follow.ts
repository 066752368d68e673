import type { Command } from 'commander';
import { noWorkerNote, type RunHandle } from '../temporal/client';
import { formatCounts, formatSteps, runNeedsAttention } from './format';
import { createProgressBar } from './progressBar';

export const waitOption = (command: Command): Command =>
  command.option('--wait', 'follow the run with a progress bar; exit 1 if a target failed or the run stopped failed');

/** How often `--wait` asks why a run does not move (no worker, a failing query). */
const WATCH_MS = 3000;

/** Prints where a run is; with `wait`, follows it to the end and sets exit code 1 when it needs attention. */
export async function follow(run: RunHandle, wait: unknown): Promise<void> {
  console.log(`started ${run.workflowId}`);
  if (run.uiUrl) console.log(run.uiUrl);
  // The run is started either way; without a worker it waits, and a person should know why nothing moves.
  if (!(await run.workerPolling())) console.error(`tju: ${noWorkerNote(run.taskQueue)}; the run waits for one`);
  if (!wait) return;
  const bar = createProgressBar(run.workflowId);
  const watching = watch(run, (line) => bar.log(`tju: ${line}`));
  const summary = await run
    .wait((progress) => bar.update(progress))
    .finally(() => {
      watching.stop();
      bar.stop();
    });
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
    const lines: string[] = [];
    if (!(await run.workerPolling().catch(() => true))) lines.push(`${noWorkerNote(run.taskQueue)}; the run waits for one`);
    lines.push(...(await run.problems().catch(() => [])));
    const now = lines.join('\n');
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
