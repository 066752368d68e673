import type { TriggerInput } from '../types';

/** Temporal refuses more than 2,000 pending children per workflow; the plan refuses a window above this. */
export const MAX_WINDOW = 1000;

export type ResolvedTriggerInput = TriggerInput & Required<Pick<TriggerInput, 'granularity' | 'chunkSize' | 'chunkConcurrency'>>;

/** What inputs planned before the plan resolved every default left out, as the trigger read them then. */
const EARLIER_DEFAULTS = { granularity: 'per-target', chunkSize: 100, chunkConcurrency: 10 } as const;

/**
 * The trigger's input with nothing left to guess: the plan (src/plan.ts) resolves every default, and runs
 * planned before it did still read theirs as they were, so their histories replay unchanged.
 */
export function resolveTriggerInput(input: TriggerInput): ResolvedTriggerInput {
  return {
    ...input,
    window: Math.max(1, Math.min(input.window, MAX_WINDOW)),
    granularity: input.granularity ?? EARLIER_DEFAULTS.granularity,
    chunkSize: Math.max(1, input.chunkSize ?? EARLIER_DEFAULTS.chunkSize),
    chunkConcurrency: input.chunkConcurrency ?? EARLIER_DEFAULTS.chunkConcurrency,
  };
}
