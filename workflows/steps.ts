// Counting a chain's outcomes: shared by the job, the chunk, the trigger and the bulk activity (plain code).
import type { StepCounts, StepOutcome } from './types';

/** A chain that did something succeeded; one whose steps were all done before (or did not apply) is skipped. */
export const chainOutcome = (steps: Record<string, StepOutcome>): 'succeeded' | 'skipped' =>
  Object.values(steps).includes('succeeded') ? 'succeeded' : 'skipped';

/** Adds one chain's outcome per step, or another's counts per step, to `into`. */
export function addStepCounts(into: StepCounts, steps: Record<string, StepOutcome> | StepCounts): void {
  for (const [unit, outcome] of Object.entries(steps)) {
    const counts = (into[unit] ??= {});
    const add = typeof outcome === 'string' ? { [outcome]: 1 } : outcome;
    for (const [kind, n] of Object.entries(add) as Array<[StepOutcome, number]>) counts[kind] = (counts[kind] ?? 0) + n;
  }
}
