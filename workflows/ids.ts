import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Deterministic IDs: Temporal refuses a second running workflow with the same ID, so one run of a batch
// and one job per target and run cannot run twice at once.
export const triggerWorkflowId = (batch: string, runKey: string): string => `${batch}/${runKey}`;
export const jobWorkflowId = (batch: string, runKey: string, targetKey: string): string =>
  `${batch}/${runKey}/${targetKey}`;

/** A retry of a run's failed targets runs beside the run, under its own ID. */
export const retryWorkflowId = (batch: string, runKey: string): string => `${batch}/${runKey}/retry`;
export const chunkWorkflowId = (batch: string, runKey: string, firstKey: string, lastKey: string): string =>
  `${batch}/${runKey}/chunk/${firstKey}-${lastKey}`;

/** The task queue of a rate-limited unit's activities: its own, so the queue's rate limit is the unit's. */
export const unitTaskQueue = (jobQueue: string, unit: string): string => `${jobQueue}.${unit}`;

/** Custom search attributes on every tju workflow, so `temporal workflow list --query` and the UI can filter. */
export const searchAttributes = {
  batch: defineSearchAttributeKey('TjuBatch', SearchAttributeType.KEYWORD),
  runKey: defineSearchAttributeKey('TjuRunKey', SearchAttributeType.KEYWORD),
  targetKey: defineSearchAttributeKey('TjuTargetKey', SearchAttributeType.KEYWORD),
};

/** The search attributes every workflow of a run carries. */
export const runSearchAttributes = (batch: string, runKey: string) => [
  { key: searchAttributes.batch, value: batch },
  { key: searchAttributes.runKey, value: runKey },
];
