import type { ChunkInput, RunSummary } from './types';
import { runTargetUnit } from './unit';

/**
 * The Job (per-chunk): one child workflow for a chunk of targets, for runs where a workflow per target
 * costs too much. Each target's Unit is still its own activity and transaction, retried and recorded
 * alone; `concurrency` of them run at once.
 */
export async function chunkJobWorkflow(input: ChunkInput): Promise<Omit<RunSummary, 'total'>> {
  const counts = { succeeded: 0, failed: 0, skipped: 0 };
  let next = 0;
  const lane = async () => {
    while (next < input.targets.length) {
      const target = input.targets[next++];
      const { outcome } = await runTargetUnit({
        batch: input.batch,
        runKey: input.runKey,
        params: input.params,
        target,
        settings: input.settings,
      });
      counts[outcome]++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(input.concurrency, input.targets.length) }, lane));
  return counts;
}
