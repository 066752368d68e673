import { Context } from '@temporalio/activity';
import { Runtime, type InjectedSinks } from '@temporalio/worker';
import type { TjuMetricSinks } from '../contracts/metrics';

// tju's metrics go through the runtime's meter (the same Prometheus endpoint as the SDK's), labelled the way
// Prometheus and the SDK's core label theirs: snake_case, units in the names (`tju_unit_duration_seconds`).

/** The sink behind workflows/metrics.ts: a workflow's counters, with its namespace, task queue and type. */
export function metricSinks(): InjectedSinks<TjuMetricSinks> {
  return {
    tjuMetrics: {
      count: {
        fn: (info, name, help, value, labels) =>
          Runtime.instance()
            .metricMeter.withTags({ namespace: info.namespace, task_queue: info.taskQueue, workflow_type: info.workflowType })
            .createCounter(name, '', help)
            .add(value, labels),
        callDuringReplay: false,
      },
    },
  };
}

/** The meter of the running activity, labelled with its namespace, task queue and type, and `labels`. */
export function activityMeter(labels: Record<string, string>) {
  const { namespace, taskQueue, activityType } = Context.current().info;
  return Runtime.instance().metricMeter.withTags({ namespace, task_queue: taskQueue, activity_type: activityType, ...labels });
}
