import { condition } from '@temporalio/workflow';
import { bookkeeping } from '../bookkeeping';
import type { CanaryReport } from '../../src/contracts/types';
import { dispatchTargets } from './dispatch';
import type { StartJob } from './jobs';
import type { RunState } from './state';

const { canaryGroups } = bookkeeping;

/**
 * A run's canary gate: its first `targets` targets, dispatched as the run's mode would (their pages cut to
 * fit), each job timed; then the gate. Under the ratio it opens by itself when the batch says `continue:
 * 'auto'`; otherwise the run holds (paused, with the reason and the figures in its progress and history) until
 * an operator resumes or cancels it. Nothing past the canary is dispatched before then.
 */
export async function runCanary(run: RunState, startJob: StartJob): Promise<void> {
  const settings = run.input.canary!;
  const jobMs: number[] = [];
  const timed: StartJob = async (targets) => {
    // Workflow time: the same on replay.
    const started = new Date().getTime();
    try {
      return await startJob(targets);
    } finally {
      jobMs.push(new Date().getTime() - started);
    }
  };
  await dispatchTargets(run, timed, settings.targets);
  if (run.stopped) return;
  const report = await reportOf(run, jobMs);
  run.counts.canary = report;
  // The canary was the whole run: there is nothing to hold back.
  if (report.decision === 'continued' || run.exhausted) return;
  run.hold(holdReason(report));
  await condition(() => !run.paused || run.stopped !== undefined);
}

async function reportOf(run: RunState, jobMs: number[]): Promise<CanaryReport> {
  const { input, counts } = run;
  const { maxFailureRatio } = input.canary!;
  const finished = counts.succeeded + counts.failed + counts.skipped;
  const passed = finished === 0 || counts.failed / finished <= maxFailureRatio;
  const groups = counts.failed > 0 ? await canaryGroups({ batch: input.batch, runKey: input.runKey }) : [];
  return {
    targets: counts.total,
    succeeded: counts.succeeded,
    failed: counts.failed,
    skipped: counts.skipped,
    passed,
    maxFailureRatio,
    decision: !passed ? 'held' : input.canary!.continue === 'auto' ? 'continued' : 'waiting',
    jobMs: { p50: percentile(jobMs, 0.5), p99: percentile(jobMs, 0.99), jobs: jobMs.length },
    groups,
  };
}

function holdReason(report: CanaryReport): string {
  const share = `${report.failed} of ${report.targets} canary targets failed`;
  const limit = `maxFailureRatio ${report.maxFailureRatio}`;
  return report.passed
    ? `canary passed (${share}, within ${limit}): waiting for tju resume`
    : `canary failed (${share}, more than ${limit}): resume to go on anyway, or cancel`;
}

function percentile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}
