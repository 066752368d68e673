// The workers panel: who polls each of the app's task queues, and when each last asked for work.
import type { Client } from '@temporalio/client';
import type { Batch } from '../batch';
import { pollersOf, type Poller } from '../temporal/pollers';
import { unitQueuesOf } from '../temporal/worker';

export interface QueueWorkers {
  taskQueue: string;
  /** `jobs`: triggers, jobs and their units; `unit`: a unit's own (rate-limited) queue, activities only. */
  role: 'jobs' | 'unit';
  workflowPollers: Poller[];
  activityPollers: Poller[];
  /** Why the queue could not be described. */
  problem?: string;
}

/** The app's job queues (each batch's, or the default) and their units' own queues, with their pollers, asked at once. */
export async function workersOf(client: Client, batches: readonly Batch[], defaultQueue: string): Promise<QueueWorkers[]> {
  const jobQueues = [...new Set([defaultQueue, ...batches.map((batch) => batch.taskQueue ?? defaultQueue)])].sort();
  const queues = [
    ...jobQueues.map((taskQueue) => ({ taskQueue, role: 'jobs' as const })),
    ...jobQueues.flatMap((queue) =>
      unitQueuesOf(batches, queue, defaultQueue).map(({ taskQueue }) => ({ taskQueue, role: 'unit' as const })),
    ),
  ];
  return Promise.all(
    queues.map(async ({ taskQueue, role }) => {
      try {
        const [workflowPollers, activityPollers] = await Promise.all([
          role === 'jobs' ? pollersOf(client, taskQueue, 'workflow') : Promise.resolve([]),
          pollersOf(client, taskQueue, 'activity'),
        ]);
        return { taskQueue, role, workflowPollers, activityPollers };
      } catch (err) {
        return { taskQueue, role, workflowPollers: [], activityPollers: [], problem: (err as Error).message };
      }
    }),
  );
}
