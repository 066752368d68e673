import { z } from 'zod';
import { UserError } from './errors';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

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
});

export interface Config {
  databaseUrl: string;
  /** Unset means: the local dev server on 127.0.0.1:7233, started by tju where it starts one. */
  temporalAddress?: string;
  namespace: string;
  uiUrl?: string;
  taskQueue: string;
  maxConcurrentUnits: number;
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
  };
}

/** The Web UI of a dev server listens on its gRPC port + 1000. */
export function uiUrlFor(config: Config, address: string): string {
  if (config.uiUrl) return config.uiUrl.replace(/\/$/, '');
  const [host, port] = address.split(':');
  return `http://${host}:${Number(port) + 1000}`;
}
