import type { Sinks } from '@temporalio/workflow';

/**
 * tju's counters from workflow code, through a sink the worker provides (src/temporal/metrics.ts): the worker
 * labels them as Prometheus and the SDK's own metrics do (`namespace`, `task_queue`, `workflow_type`), and does
 * not count them again while a workflow replays. The SDK's workflow `metricMeter` would label them `taskQueue` and
 * `workflowType` instead.
 */
export interface TjuMetricSinks extends Sinks {
  tjuMetrics: {
    count(name: string, help: string, value: number, labels: Record<string, string>): void;
  };
}
