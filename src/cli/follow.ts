import type { Command } from 'commander';
import { noWorkerNote, type RunHandle } from '../temporal/client';
import { formatCounts, formatSteps } from './format';
import { createProgressBar } from './progressBar';

export const waitOption = (command: Command): Command =>
  command.option('--wait', 'follow the run with a progress bar; exit 1 if any target failed');

/** Prints where a run is; with `wait`, follows it to the end and sets exit code 1 on failed targets. */
export async function follow(run: RunHandle, wait: unknown): Promise<void> {
  console.log(`started ${run.workflowId}`);
  if (run.uiUrl) console.log(run.uiUrl);
  // The run is started either way; without a worker it waits, and a person should know why nothing moves.
  if (!(await run.workerPolling())) console.error(`tju: ${noWorkerNote(run.taskQueue)}; the run waits for one`);
  if (!wait) return;
  const bar = createProgressBar(run.workflowId);
  const summary = await run.wait((progress) => bar.update(progress)).finally(() => bar.stop());
  console.log(formatCounts(summary));
  for (const line of formatSteps(summary.steps, '  ')) console.log(line);
  if (summary.failed > 0) process.exitCode = 1;
}
