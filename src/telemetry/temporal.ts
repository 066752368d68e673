// Temporal's OpenTelemetry interceptors, as tju wires them when tracing is on: the client's start of a run
// opens its trace; the workflow interceptors (bundled into the workflow code) carry it to every job, chunk and
// activity through their headers and export workflow spans through a sink; the activity interceptor opens each
// activity's span, under which tju's unit spans (and their SQL) sit.
import type { WorkerOptions } from '@temporalio/worker';
import type { Tracing } from './tracing';

/** The workflow interceptors' module, for the workflow bundle. */
export const workflowTracingModules = (): string[] => [require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')];

/** A worker's tracing: activity interceptors and the workflow spans' exporter sink (merged into `sinks`). */
export async function tracedWorkerOptions(
  tracing: Tracing,
  sinks: WorkerOptions['sinks'] = {},
): Promise<Pick<WorkerOptions, 'interceptors' | 'sinks'>> {
  const otel = await import('@temporalio/interceptors-opentelemetry/lib/worker');
  return {
    interceptors: {
      activity: [
        (ctx) => ({
          inbound: new otel.OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new otel.OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
    },
    sinks: { ...sinks, exporter: otel.makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
  };
}

/** A client's tracing: each workflow it starts or signals gets a span, the parent of the workflow's own. */
export async function tracedClientInterceptors() {
  const { OpenTelemetryWorkflowClientInterceptor } = await import('@temporalio/interceptors-opentelemetry/lib/client');
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor()] };
}
