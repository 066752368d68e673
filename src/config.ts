import { z } from 'zod';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import type { PayloadCodec } from '@temporalio/common';
import { codecFromEnv } from './codec';
import { parseDuration } from './duration';
import { UserError } from './errors';

export { parseDuration };

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const duration = z.string().refine((v) => parseDuration(v) !== undefined, 'expected a duration like 30s, 15m, 12h');

/** What a trace URL template must be, as a bad `--trace-url` or TJU_TRACE_URL is told. */
export const TRACE_URL_EXPECTED = 'expected an http(s) URL with {traceId} in it, e.g. http://localhost:16686/trace/{traceId}';

const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:/]+:\d+$/, 'must be host:port')
    .optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).optional(),
  TEMPORAL_UI_URL: z.url().optional(),
  TJU_TASK_QUEUE: z.string().min(1).optional(),
  TJU_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, 'must be a lower-case SQL identifier')
    .optional(),
  TJU_MAX_CONCURRENT_UNITS: positiveInt(20),
  TJU_MAX_CACHED_WORKFLOWS: z.coerce.number().int().nonnegative().optional(),
  TJU_SHUTDOWN_GRACE: duration.default('30s'),
  TJU_MAX_LIFETIME: duration.optional(),
  TJU_MAX_MEMORY_MB: z.coerce.number().int().positive().optional(),
  TJU_CONNECT_TIMEOUT: duration.default('0s'),
  TJU_METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  TJU_CODEC_KEYS: z.string().optional(),
  TJU_DASHBOARD_TOKEN: z.string().min(16, 'must be at least 16 characters (it guards the buttons that change runs)').optional(),
  TJU_CODEC_TOKEN: z.string().min(16, 'must be at least 16 characters (it guards decryption)').optional(),
  TJU_TRACE_URL: z.string().refine(isTraceUrlTemplate, TRACE_URL_EXPECTED).optional(),
});

/** Every environment variable tju reads. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

/** The settings an app's config file gives, under the environment's. */
export interface AppSettings {
  databaseUrl?: string;
  schema?: string;
  taskQueue?: string;
}

export interface Config {
  databaseUrl: string;
  /** PostgreSQL schema of tju's own tables. */
  schema: string;
  /** As configured; unset means the local dev server on 127.0.0.1:7233, started by tju where it starts one. */
  temporalAddress?: string;
  namespace: string;
  /** Where and how to reach Temporal: address, namespace, TLS, API key (see `temporalTarget`). */
  temporal: TemporalTarget;
  uiUrl?: string;
  taskQueue: string;
  maxConcurrentUnits: number;
  maxCachedWorkflows?: number;
  shutdownGrace: string;
  maxLifetime?: string;
  maxMemoryMb?: number;
  /** How long a starting worker keeps trying to reach PostgreSQL and Temporal. */
  connectTimeout: string;
  /** Where a worker serves Prometheus metrics (`/metrics`); unset: none. */
  metricsPort?: number;
  /** Enables the dashboard's buttons; unset: the dashboard is read-only. */
  dashboardToken?: string;
  /** The bearer token the codec server asks of every request; unset: it serves loopback only. */
  codecToken?: string;
  /** Where the dashboard links a run's trace, `{traceId}` standing for its ID; unset: no links. */
  traceUrl?: string;
}

export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/tju';

/**
 * tju's settings: environment variables over the app's config file over defaults. A bad value is a one-line
 * UserError naming the variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, app: AppSettings = {}): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== '')) as Record<
    string,
    string
  >;
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(`${issue.path.join('.')}: ${issue.message}`);
  }
  const e = parsed.data;
  const codec = codecFromEnv(e.TJU_CODEC_KEYS);
  const temporal = { ...temporalTarget(present), ...(codec ? { codec } : {}) };
  return {
    databaseUrl: e.DATABASE_URL ?? app.databaseUrl ?? fromPgVariables(present) ?? DEFAULT_DATABASE_URL,
    schema: e.TJU_SCHEMA ?? app.schema ?? 'tju',
    temporalAddress: e.TEMPORAL_ADDRESS ?? temporal.configured,
    namespace: temporal.namespace,
    temporal,
    uiUrl: e.TEMPORAL_UI_URL,
    taskQueue: e.TJU_TASK_QUEUE ?? app.taskQueue ?? 'tju',
    maxConcurrentUnits: e.TJU_MAX_CONCURRENT_UNITS,
    maxCachedWorkflows: e.TJU_MAX_CACHED_WORKFLOWS,
    shutdownGrace: e.TJU_SHUTDOWN_GRACE,
    maxLifetime: e.TJU_MAX_LIFETIME,
    maxMemoryMb: e.TJU_MAX_MEMORY_MB,
    connectTimeout: e.TJU_CONNECT_TIMEOUT,
    metricsPort: e.TJU_METRICS_PORT,
    dashboardToken: e.TJU_DASHBOARD_TOKEN,
    codecToken: e.TJU_CODEC_TOKEN,
    traceUrl: e.TJU_TRACE_URL,
  };
}

export interface TemporalTarget {
  address: string;
  namespace: string;
  tls?: NativeConnectionOptions['tls'];
  apiKey?: string;
  metadata?: Record<string, string>;
  /** Encrypts what Temporal stores (TJU_CODEC_KEYS): client, worker and CLI must all use the same keys. */
  codec?: PayloadCodec;
  /** The address when one was configured (an environment variable or a profile), not defaulted. */
  configured?: string;
}

/**
 * Temporal's connection as the `temporal` CLI reads it (@temporalio/envconfig): TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*, TEMPORAL_PROFILE and the TOML file of TEMPORAL_CONFIG_FILE
 * (or the CLI's default location). Unset: the local dev server.
 */
export function temporalTarget(env: Record<string, string>): TemporalTarget {
  let loaded;
  try {
    loaded = loadClientConnectConfig({ overrideEnvVars: env });
  } catch (err) {
    throw new UserError(`Temporal connection settings: ${(err as Error).message}`);
  }
  const { address, tls, apiKey, metadata } = loaded.connectionOptions;
  return {
    address: address ?? DEFAULT_TEMPORAL_ADDRESS,
    namespace: loaded.namespace ?? 'default',
    ...(tls ? { tls } : {}),
    ...(apiKey ? { apiKey: apiKey as string } : {}),
    ...(metadata ? { metadata: metadata as Record<string, string> } : {}),
    configured: address,
  };
}

/** libpq's standard variables (PGHOST, PGPORT, PGUSER, PGDATABASE, PGSSLMODE) as a URL; PGPASSWORD pg reads itself. */
function fromPgVariables(env: Record<string, string>): string | undefined {
  if (!env.PGHOST && !env.PGDATABASE) return undefined;
  const url = new URL(`postgres://${env.PGHOST ?? '127.0.0.1'}:${env.PGPORT ?? 5432}/${env.PGDATABASE ?? 'tju'}`);
  url.username = env.PGUSER ?? 'postgres';
  if (env.PGSSLMODE) url.searchParams.set('sslmode', env.PGSSLMODE);
  return url.toString();
}

/** The Web UI of a dev server listens on its gRPC port + 1000. */
export function uiUrlFor(config: Config, address: string): string {
  if (config.uiUrl) return config.uiUrl.replace(/\/$/, '');
  const [host, port] = address.split(':');
  return `http://${host}:${Number(port) + 1000}`;
}

/** A trace URL template: an http(s) URL with `{traceId}` where the trace's ID goes. */
export function isTraceUrlTemplate(value: string): boolean {
  if (!value.includes('{traceId}')) return false;
  try {
    return /^https?:$/.test(new URL(value.replaceAll('{traceId}', 'x')).protocol);
  } catch {
    return false;
  }
}
