import { MAX_WINDOW } from '../../src/contracts/limits';
import type { TriggerInput } from '../../src/contracts/types';

/** The trigger's input, its window kept within what Temporal allows a workflow's pending children. */
export const resolveTriggerInput = (input: TriggerInput): TriggerInput => ({
  ...input,
  window: Math.max(1, Math.min(input.window, MAX_WINDOW)),
  chunkSize: Math.max(1, input.chunkSize),
});
