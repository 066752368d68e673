import type { Command } from 'commander';
import type { RunProgress, RunSummary, StepCounts } from '../../workflows/types';

/** `--json`: the same answer as one JSON document on stdout, for scripts. */
export const jsonOption = (command: Command): Command => command.option('--json', 'print JSON instead of text, for scripts');
export const printJson = (value: unknown): void => console.log(JSON.stringify(value, null, 2));

/** `total 10, succeeded 8, failed 1, skipped 1`, with what stopped the run early when something did. */
export const formatCounts = (c: RunSummary & Partial<Pick<RunProgress, 'paused'>>): string =>
  `total ${c.total}, succeeded ${c.succeeded}, failed ${c.failed}, skipped ${c.skipped}` +
  (c.cancelled ? `, cancelled in flight ${c.cancelled}` : '') +
  (c.stopped ? `; stopped (${c.stopped.state}): ${c.stopped.reason}` : '') +
  (c.paused ? '; paused' : '');

/** A chain's counts, a line per step: `shop.request-shipping: succeeded 97, not-applicable 24, failed 2`. */
export const formatSteps = (steps: StepCounts | undefined, indent: string): string[] =>
  Object.entries(steps ?? {}).map(
    ([unit, counts]) => `${indent}${unit}: ${Object.entries(counts).map(([outcome, n]) => `${outcome} ${n}`).join(', ')}`,
  );
