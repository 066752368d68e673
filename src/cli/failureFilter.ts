import type { Command } from 'commander';
import type { FailureFilter } from '../contracts/types';
import { UserError } from '../errors';

/** `--error` and `--target`: which open failures `failures`, `retry` and `clear` take. */
export const failureFilterOptions = (command: Command): Command =>
  command
    .option(
      '--error <group or text>',
      'only failures of this group (as `tju failures --groups` prints it) or whose error contains this text',
    )
    .option('--target <key>', "only this target's failure");

export function failureFilterOf(options: Record<string, unknown>): FailureFilter | undefined {
  const filter: FailureFilter = {};
  for (const flag of ['error', 'target'] as const) {
    if (options[flag] === '') throw new UserError(`--${flag} must not be empty`);
  }
  if (typeof options.error === 'string') filter.error = options.error;
  if (typeof options.target === 'string') filter.target = options.target;
  return Object.keys(filter).length ? filter : undefined;
}

/** How a filter reads in a message: ` matching --error '…' --target …`. */
export const describeFilter = (filter?: FailureFilter): string =>
  filter
    ? ` matching${filter.error !== undefined ? ` --error ${JSON.stringify(filter.error)}` : ''}${
        filter.target !== undefined ? ` --target ${JSON.stringify(filter.target)}` : ''
      }`
    : '';
