import type { Command } from 'commander';
import type { HookProblem } from '../hooks/outbox';
import type { CanaryReport, RunProgress, RunSummary, StepCounts, Verification } from '../contracts/types';

/** `--json`: the same answer as one JSON document on stdout, for scripts. */
export const jsonOption = (command: Command): Command => command.option('--json', 'print JSON instead of text, for scripts');
export const printJson = (value: unknown): void => console.log(JSON.stringify(value, null, 2));

/** `total 10, succeeded 8, failed 1, skipped 1`, with what stopped the run early when something did. */
export const formatCounts = (c: RunSummary & Partial<Pick<RunProgress, 'paused' | 'held'>>): string =>
  `total ${c.total}, succeeded ${c.succeeded}, failed ${c.failed}, skipped ${c.skipped}` +
  (c.cancelled ? `, cancelled in flight ${c.cancelled}` : '') +
  (c.stopped ? `; stopped (${c.stopped.state}): ${c.stopped.reason}` : '') +
  (c.paused ? (c.held ? `; paused by its gate: ${c.held}` : '; paused') : '') +
  (c.verified ? `; ${formatVerification(c.verified)}` : '');

/** `verified: 1000 selected, none lost`, or what was lost. */
export function formatVerification(v: Verification): string {
  if (v.error) return `not verified: ${v.error}`;
  if (v.lost === 0) return `verified: ${v.checked} selected target(s), none lost`;
  const keys = v.sample.map((s) => s.key).join(', ');
  return `verified: ${v.lost} of ${v.checked} selected target(s) have no ledger row or open failure (${keys}${v.lost > v.sample.length ? ', …' : ''})`;
}

/** A hook call not delivered: `onComplete gave up after 10 attempts: Error: …` or `… retrying (attempt 3 of 10)`. */
export function formatHook(h: HookProblem): string {
  const many = h.events > 1 ? ` (${h.events} calls)` : '';
  if (h.state === 'gave-up') return `hook ${h.hook} gave up after ${h.attempts} attempt(s)${many}: ${h.lastError}`;
  if (h.attempts === 0) return `hook ${h.hook} queued${many}: no worker has called it yet`;
  return `hook ${h.hook} retrying (attempt ${h.attempts} of ${h.maxAttempts})${many}: ${h.lastError}`;
}

/** A run that a person should look at: a failed target, a stop by its threshold or query, a lost target. */
export const runNeedsAttention = (summary: RunSummary): boolean =>
  summary.failed > 0 || summary.stopped?.state === 'failed' || (summary.verified?.lost ?? 0) > 0;

/** A chain's counts, a line per step: `shop.request-shipping: succeeded 97, not-applicable 24, failed 2`. */
export const formatSteps = (steps: StepCounts | undefined, indent: string): string[] =>
  Object.entries(steps ?? {}).map(
    ([unit, counts]) =>
      `${indent}${unit}: ${Object.entries(counts)
        .map(([outcome, n]) => `${outcome} ${n}`)
        .join(', ')}`,
  );

/** A canary's figures, a line each: what it did, how long its jobs took, its failures by cause. */
export function formatCanary(c: CanaryReport, indent: string): string[] {
  const gate = { continued: 'the gate opened by itself', waiting: 'the gate waits for tju resume', held: 'the gate holds' }[c.decision];
  return [
    `${indent}canary: ${c.targets} target(s): succeeded ${c.succeeded}, failed ${c.failed}, skipped ${c.skipped} ` +
      `(${c.passed ? 'within' : 'over'} maxFailureRatio ${c.maxFailureRatio}); ${gate}`,
    `${indent}  job time p50 ${c.jobMs.p50} ms, p99 ${c.jobMs.p99} ms over ${c.jobMs.jobs} job(s)`,
    ...c.groups.map((g) => `${indent}  ${String(g.count).padStart(5)}  ${g.unit}  ${g.group}`),
  ];
}
