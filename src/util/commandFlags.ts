import type { FailureFilter } from '../contracts/types';
import { shellQuote } from './shellQuote';

// How a run and a failure filter read as `tju` flags, shell-quoted: the CLI prints them in its hints, the
// dashboard shows them as commands to copy.

/** A param's flag name: `startDate` → `start-date`. */
export const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The flags that name a run again in a printed command: ` --date 2026-11-01`. */
export const paramFlags = (params: Record<string, string>): string =>
  Object.entries(params)
    .map(([key, value]) => ` --${kebab(key)} ${shellQuote(value)}`)
    .join('');

/** The flags that choose what a filter chooses: ` --group '…' --step … --target …`. */
export function filterFlags(filter?: FailureFilter): string {
  if (!filter) return '';
  const flags: string[] = [];
  if (filter.group) flags.push('--group', shellQuote(filter.group.error));
  if (filter.group?.unit !== undefined) flags.push('--step', shellQuote(filter.group.unit));
  if (filter.error !== undefined) flags.push('--error', shellQuote(filter.error));
  if (filter.target !== undefined) flags.push('--target', shellQuote(filter.target));
  return flags.length ? ` ${flags.join(' ')}` : '';
}

/** The command that retries one failure group of a run. */
export const retryGroupCommand = (batch: string, params: Record<string, string>, group: { group: string; unit: string }): string =>
  `npx tju retry ${batch}${paramFlags(params)}${filterFlags({ group: { error: group.group, unit: group.unit } })}`;
