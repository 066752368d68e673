import type { JobTargets } from './types';

/**
 * A page cut into consecutive slices of `size` (the last may be shorter): its jobs' chunks. Plain code, shared
 * by the trigger and by the page fetch that stages chunks.
 */
export function slices<T>(items: T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
}

/** How many targets a job has: its rows, or its staged chunk's count. */
export const countOf = (targets: JobTargets): number => (Array.isArray(targets) ? targets.length : targets.count);

/** A job's first and last keys: a chunk job's ID, the trigger's cursor. */
export const keyRangeOf = (targets: JobTargets): [first: string, last: string] =>
  Array.isArray(targets) ? [targets[0].key, targets[targets.length - 1].key] : [targets.first, targets.last];
