import { z } from 'zod';
import { UserError } from './errors';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `30s`, `15m`, `12h`, `1d` in milliseconds; undefined when malformed. */
export function parseDuration(value: string): number | undefined {
  const match = DURATION.exec(value.trim());
  return match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : undefined;
}

const duration = z.string().refine((v) => parseDuration(v) !== undefined, 'expected a duration like 30s, 15m, 12h');

const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .default('postgres://postgres@127.0.0.1:5432/tju'),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:/]+:\d+$/, 'must be host:port')
    .optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_UI_URL: z.url().optional(),
  TJU_TASK_QUEUE: z.string().min(1).default('tju'),
  TJU_MAX_CONCURRENT_UNITS: positiveInt(20),
  TJU_MAX_CACHED_WORKFLOWS: z.coerce.number().int().nonnegative().optional(),
  TJU_SHUTDOWN_GRACE: duration.default('30s'),
  TJU_MAX_LIFETIME: duration.optional(),
  TJU_MAX_MEMORY_MB: z.coerce.number().int().positive().optional(),
  TJU_CONNECT_TIMEOUT: duration.default('0s'),
});

/** Every environment variable tju reads. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

export interface Config {
  databaseUrl: string;
  /** Unset means: the local dev server on 127.0.0.1:7233, started by tju where it starts one. */
  temporalAddress?: string;
  namespace: string;
  uiUrl?: string;
  taskQueue: string;
  maxConcurrentUnits: number;
  maxCachedWorkflows?: number;
  shutdownGrace: string;
  maxLifetime?: string;
  maxMemoryMb?: number;
  /** How long a starting worker keeps trying to reach PostgreSQL and Temporal. */
  connectTimeout: string;
}

export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';

/** Reads tju's environment variables; a bad value is a one-line UserError naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(`${issue.path.join('.')}: ${issue.message}`);
  }
  const e = parsed.data;
  return {
    databaseUrl: e.DATABASE_URL,
    temporalAddress: e.TEMPORAL_ADDRESS,
    namespace: e.TEMPORAL_NAMESPACE,
    uiUrl: e.TEMPORAL_UI_URL,
    taskQueue: e.TJU_TASK_QUEUE,
    maxConcurrentUnits: e.TJU_MAX_CONCURRENT_UNITS,
    maxCachedWorkflows: e.TJU_MAX_CACHED_WORKFLOWS,
    shutdownGrace: e.TJU_SHUTDOWN_GRACE,
    maxLifetime: e.TJU_MAX_LIFETIME,
    maxMemoryMb: e.TJU_MAX_MEMORY_MB,
    connectTimeout: e.TJU_CONNECT_TIMEOUT,
  };
}

/** The Web UI of a dev server listens on its gRPC port + 1000. */
export function uiUrlFor(config: Config, address: string): string {
  if (config.uiUrl) return config.uiUrl.replace(/\/$/, '');
  const [host, port] = address.split(':');
  return `http://${host}:${Number(port) + 1000}`;
}
