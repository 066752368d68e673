// OpenTelemetry traces, off unless the standard OTEL_* variables turn them on (or an app or test hands tju a
// span processor). When off, nothing below runs per unit: callers ask `tracingOn()` first.
import type * as OtelApi from '@opentelemetry/api';
import type { Attributes, Span } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { UserError } from '../errors';

/** OpenTelemetry's API, loaded when tracing starts: a command that does not trace never pays for it. */
let otel: typeof OtelApi | undefined;

/** The tracer of tju's own spans (unit attempts, their SQL): the global provider's. Only while tracing. */
export const tjuTracer = () => otel!.trace.getTracer('tju');

export interface Tracing {
  spanProcessor: SpanProcessor;
  resource: Resource;
  /** Flushes what is buffered and stops tracing in this process. */
  shutdown(): Promise<void>;
}

let active: Tracing | undefined;

/** Whether this process traces: asked before building any span, so tracing off costs a boolean per unit. */
export const tracingOn = (): boolean => active !== undefined;

/** The process's tracing, if on. */
export const currentTracing = (): Tracing | undefined => active;

/**
 * Whether the environment asks for traces: `OTEL_TRACES_EXPORTER=otlp|console`, or an OTLP endpoint with no
 * exporter named; never with `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`.
 */
export function tracesExporterFromEnv(env: NodeJS.ProcessEnv = process.env): 'otlp' | 'console' | undefined {
  if (env.OTEL_SDK_DISABLED?.toLowerCase() === 'true') return undefined;
  const named = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (named === undefined || named === '')
    return env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? 'otlp' : undefined;
  if (named === 'none') return undefined;
  if (named === 'otlp' || named === 'console') return named;
  throw new UserError(`OTEL_TRACES_EXPORTER: tju exports traces with otlp or console, or none (got ${JSON.stringify(named)})`);
}

/**
 * Starts tracing in this process: a tracer provider with the given span processor, or one built from the
 * environment (the OTLP/HTTP exporter reads OTEL_EXPORTER_OTLP_*; the sampler OTEL_TRACES_SAMPLER; the resource
 * OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, service `tju` by default). Undefined when neither asks for it.
 */
export async function startTracing(options: { spanProcessor?: SpanProcessor; env?: NodeJS.ProcessEnv } = {}): Promise<Tracing | undefined> {
  const env = options.env ?? process.env;
  const exporter = options.spanProcessor ? undefined : tracesExporterFromEnv(env);
  if (!options.spanProcessor && !exporter) return undefined;
  if (active) return active;
  otel = await import('@opentelemetry/api');
  const api = otel;
  const [{ BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter }, resources, { AsyncLocalStorageContextManager }] =
    await Promise.all([
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/context-async-hooks'),
    ]);
  const spanProcessor =
    options.spanProcessor ??
    new BatchSpanProcessor(
      exporter === 'console'
        ? new ConsoleSpanExporter()
        : new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter(),
    );
  const resource = new resources.Resource({ 'service.name': 'tju' }).merge(
    resources.detectResourcesSync({ detectors: [resources.envDetectorSync] }),
  );
  const provider = new BasicTracerProvider({ resource });
  provider.addSpanProcessor(spanProcessor);
  provider.register({ contextManager: new AsyncLocalStorageContextManager().enable() });
  const tracing: Tracing = {
    spanProcessor,
    resource,
    shutdown: async () => {
      active = undefined;
      await provider.shutdown();
      api.trace.disable();
      api.context.disable();
    },
  };
  active = tracing;
  return tracing;
}

/** Runs `work` in a span of tju's own (active inside it), ended with its outcome; an error marks it and is thrown on. */
export async function inSpan<T>(name: string, attributes: Attributes, work: (span: Span) => Promise<T>): Promise<T> {
  return tjuTracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await work(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: otel!.SpanStatusCode.ERROR, message: (err as Error)?.message ?? String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The trace and span IDs of the active span, for log lines; empty when tracing is off or no span is active. */
export function traceIds(): { trace_id?: string; span_id?: string } {
  if (!active) return {};
  const span = otel!.trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/** The active span's trace ID when tracing is on (an activity's: its run's trace). */
export const activeTraceId = (): string | undefined => traceIds().trace_id;
