import type { Command } from 'commander';
import type { FailureFilter } from '../contracts/types';
import type { FailureCount } from '../db/ledger';
import { UserError } from '../errors';
import { filterFlags } from '../util/commandFlags';
import { shellQuote } from '../util/shellQuote';

/** `--group`, `--step`, `--error` and `--target`: which open failures `failures`, `retry` and `clear` take. */
export const failureFilterOptions = (command: Command): Command =>
  command
    .option('--group <group>', 'only failures of this group, exactly as `tju failures --groups` prints it')
    .option('--step <unit>', 'with --group: only where this step (unit) gave up')
    .option('--error <text>', 'only failures whose error contains this text (any case); retry and clear show what it takes first')
    .option('--target <key>', "only this target's failure");

export function failureFilterOf(options: Record<string, unknown>): FailureFilter | undefined {
  for (const flag of ['group', 'step', 'error', 'target'] as const) {
    if (options[flag] === '') throw new UserError(`--${flag} must not be empty`);
  }
  if (typeof options.step === 'string' && typeof options.group !== 'string')
    throw new UserError('--step chooses a step of a --group: add --group');
  const filter: FailureFilter = {};
  if (typeof options.group === 'string') {
    filter.group = { error: options.group, ...(typeof options.step === 'string' ? { unit: options.step } : {}) };
  }
  if (typeof options.error === 'string') filter.error = options.error;
  if (typeof options.target === 'string') filter.target = options.target;
  return Object.keys(filter).length ? filter : undefined;
}

/** How a filter reads in a message: ` matching --group '…' --target …`. */
export const describeFilter = (filter?: FailureFilter): string => (filter ? ` matching${filterFlags(filter)}` : '');

/** What a filter takes, a line per step and group, for a person to check before it acts. */
export const describeTaken = (taken: FailureCount): string[] =>
  taken.groups.map((g) => `  ${String(g.count).padStart(7)}  ${g.unit}  ${g.group}`);

/**
 * A group named without its step is one group only when it occurs in one step; otherwise the person says which
 * (a group's key is its step and its masked error).
 */
export function refuseAmbiguousGroup(filter: FailureFilter | undefined, taken: FailureCount): void {
  if (!filter?.group || filter.group.unit !== undefined) return;
  const steps = [...new Set(taken.groups.map((g) => g.unit))];
  if (steps.length > 1) throw new UserError(`group ${shellQuote(filter.group.error)} occurs in steps ${steps.join(', ')}: add --step`);
}
