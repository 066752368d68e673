// Every job is a chain of steps, one per unit; a batch of one unit is a chain of one. Plain code, shared by the
// job, the chunk, the trigger and the bulk activity.
import type { JobSettings, StepCounts, StepOutcome, StepSettings } from './types';

export interface Chain {
  steps: StepSettings[];
  /** Whether summaries count outcomes per step: for chains of more than one unit. */
  countsSteps: boolean;
}

/** A job's chain, from the settings the plan gave it. */
export const chainOf = (settings: JobSettings): Chain => ({ steps: settings.steps, countsSteps: settings.steps.length > 1 });

/** Whether every step runs locally: such a chunk runs in one local activity and can be staged. */
export const runsLocally = (chain: Chain): boolean => chain.steps.every((step) => !step.regular);

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
