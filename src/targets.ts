import { UserError } from './errors';
import type { Target } from './contracts/types';

/**
 * Checks one page of a target query before anything is dispatched: each row has a key (a non-empty string or
 * a number, which becomes its string), no key twice, and not the cursor the page was asked to start after (a
 * query that ignores `after` would page forever). A bad row is one error naming the batch and the row.
 */
/** A target row's key as text, or undefined when the row has none (a non-empty string or a finite number). */
export function keyOf(row: unknown): string | undefined {
  const key = (row as { key?: unknown } | null)?.key;
  const valid = (typeof key === 'string' && key !== '') || (typeof key === 'number' && Number.isFinite(key)) || typeof key === 'bigint';
  return row && typeof row === 'object' && valid ? String(key) : undefined;
}

/**
 * A target's fairness key (`job.fairnessKey`) as text, `''` for none. A key function that throws or returns
 * something else is the batch's mistake: one error naming the batch and the target.
 */
export function fairnessKeyOf(batch: string, keyFn: (target: never) => unknown, target: Target): string {
  let key: unknown;
  try {
    key = keyFn(target as never);
  } catch (err) {
    throw new UserError(`${batch}: job.fairnessKey threw for target ${target.key}: ${(err as Error)?.message ?? err}`);
  }
  if (key === null || key === undefined) return '';
  if (typeof key !== 'string' && typeof key !== 'number') {
    throw new UserError(`${batch}: job.fairnessKey must return a string or a number (got ${typeof key} for target ${target.key})`);
  }
  return String(key);
}

export function checkTargetRows(batch: string, rows: unknown[], after: string | null): Target[] {
  const seen = new Set<string>();
  return rows.map((row, index) => {
    const text = keyOf(row);
    if (text === undefined) {
      throw new UserError(`${batch}: target row ${index + 1} of the page has no key (a non-empty string or a number): ${preview(row)}`);
    }
    if (seen.has(text)) throw new UserError(`${batch}: the target query returned key ${JSON.stringify(text)} twice in one page`);
    if (text === after) {
      throw new UserError(
        `${batch}: the target query returned key ${JSON.stringify(text)} again, after it: does it filter on key > after?`,
      );
    }
    seen.add(text);
    return { ...(row as object), key: text } as Target;
  });
}

export const preview = (row: unknown): string => {
  let text: string;
  try {
    text = JSON.stringify(row, (_, value) => (typeof value === 'bigint' ? String(value) : value)) ?? String(row);
  } catch {
    text = String(row);
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
};
