import fs from 'node:fs';
import path from 'node:path';
import { stepsOf, type Batch } from './batch';
import { UserError } from './errors';
import type { FailureHook, HookRetry } from './hooks';

/** What an app tells tju in its `tju.config.ts`: its batches, and defaults that environment variables override. */
export interface TjuConfig {
  batches: readonly Batch[];
  /** PostgreSQL of the app; `DATABASE_URL` (or the `PG*` variables) override it. */
  databaseUrl?: string;
  /** The PostgreSQL schema of tju's own tables (default `tju`); `TJU_SCHEMA` overrides it. */
  schema?: string;
  /** The default task queue (default `tju`); `TJU_TASK_QUEUE` overrides it. */
  taskQueue?: string;
  /** Failure hook for batches that declare none. */
  onFailure?: FailureHook;
  /** How the workers call hooks, for batches that declare no `hookRetry`. */
  hookRetry?: HookRetry;
}

/** Declares an app's tju configuration; checked when loaded. */
export function defineConfig(config: TjuConfig): TjuConfig {
  return config;
}

export const CONFIG_FILES = ['tju.config.ts', 'tju.config.mts', 'tju.config.mjs', 'tju.config.js', 'tju.config.cjs'];

/** The config file: `explicit` (from `--config`), else the first of CONFIG_FILES in `cwd`. */
export function findConfigFile(explicit: string | undefined, cwd = process.cwd()): string {
  if (explicit) {
    const file = path.resolve(cwd, explicit);
    if (!fs.existsSync(file)) throw new UserError(`${explicit}: no such config file`);
    return file;
  }
  const found = CONFIG_FILES.map((name) => path.join(cwd, name)).find((file) => fs.existsSync(file));
  if (!found) throw new UserError(`no tju.config.ts in ${cwd}: run \`tju init\` to write one, or pass --config <file>`);
  return found;
}

/**
 * Loads an app's config file. TypeScript loads without a build step through jiti (the loader ESLint,
 * Tailwind and Nuxt use for their TypeScript configs): it transpiles on the fly, caches the result, and
 * resolves the app's own imports the way Node does.
 */
export async function loadConfigFile(file: string): Promise<TjuConfig> {
  const { createJiti } = await import('jiti');
  let loaded: unknown;
  try {
    loaded = await createJiti(file, { interopDefault: true }).import(file, { default: true });
  } catch (err) {
    throw new UserError(`${relative(file)}: ${firstLine(err)}`);
  }
  return checkConfig(loaded, relative(file));
}

/** Refuses a config tju cannot run, naming the file and the problem in one line. */
export function checkConfig(loaded: unknown, where: string): TjuConfig {
  const config = loaded as Partial<TjuConfig> | undefined;
  if (!config || typeof config !== 'object') throw new UserError(`${where}: export default defineConfig({ batches: [...] })`);
  if (!Array.isArray(config.batches) || config.batches.length === 0) throw new UserError(`${where}: no batches`);
  const seen = new Set<string>();
  for (const [i, batch] of config.batches.entries()) {
    const name = batch?.name ?? `batches[${i}]`;
    const units = batch ? stepsOf(batch) : [];
    if (units.length === 0 || units.some((step) => typeof step?.unit?.run !== 'function')) {
      throw new UserError(`${where}: batch ${name} has no unit`);
    }
    if (typeof batch.targets !== 'function') throw new UserError(`${where}: batch ${name} has no targets query`);
    if (seen.has(name)) throw new UserError(`${where}: batch ${name} is declared twice`);
    seen.add(name);
  }
  return config as TjuConfig;
}

const relative = (file: string) => path.relative(process.cwd(), file) || file;
const firstLine = (err: unknown) => String((err as Error)?.message ?? err).split('\n')[0];
