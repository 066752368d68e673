import type { RunSummary } from '../../contracts/types';

export const when = (date: Date | null | undefined): string => (date ? date.toISOString().replace('T', ' ').slice(0, 19) : '');

export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

export const number = (n: number): string => n.toLocaleString('en-US');

/** Targets finished (succeeded, failed or skipped) of those known so far. */
export const finished = (counts: RunSummary): number => counts.succeeded + counts.failed + counts.skipped;

export interface Pace {
  perSecond: number;
  /** Estimated time left, when a total is known or estimated. */
  etaMs?: number;
}

/**
 * Targets per second since the start, and the time left for `expected` targets: the run's own total once its
 * query has been read to the end, else the last finished run's total (an estimate, marked so by the caller).
 */
export function pace(counts: RunSummary, startedAt: Date, endedAt: Date, expected?: number): Pace {
  const elapsed = Math.max(1, endedAt.getTime() - startedAt.getTime());
  const done = finished(counts);
  const perSecond = (done * 1000) / elapsed;
  if (expected === undefined || perSecond <= 0) return { perSecond };
  return { perSecond, etaMs: (Math.max(0, expected - done) / perSecond) * 1000 };
}
