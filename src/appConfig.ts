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
  /**
   * The task queue of this app's triggers, jobs and units (default: the `name` in the app's package.json, so
   * two apps on one Temporal namespace never take each other's work); `TJU_TASK_QUEUE` overrides it.
   */
  taskQueue?: string;
  /**
   * A folder of the app's own SQL migrations (`001_users.sql`, …), relative to this file: `tju migrate` applies
   * them after tju's own, in order, each once (recorded with its checksum in tju's schema).
   */
  migrations?: string;
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

/**
 * The config file: `explicit` (from `--config`), else the first of CONFIG_FILES in `cwd` or the nearest folder
 * above it, as eslint, tsc and jest find theirs.
 */
export function findConfigFile(explicit: string | undefined, cwd = process.cwd()): string {
  if (explicit) {
    const file = path.resolve(cwd, explicit);
    if (!fs.existsSync(file)) throw new UserError(`${explicit}: no such config file`);
    return file;
  }
  const found = searchUp(cwd, CONFIG_FILES);
  if (!found) throw new UserError(`no tju.config.ts in ${cwd} or above it: run \`npx tju init\` to write one, or pass --config <file>`);
  return found;
}

/** The first of `names` in `dir` or the nearest folder above it. */
export function searchUp(dir: string, names: readonly string[]): string | undefined {
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    const found = names.map((name) => path.join(at, name)).find((file) => fs.existsSync(file));
    if (found || path.dirname(at) === at) return found;
  }
}

/** The `name` of the package.json nearest `dir`: an app's own name, the default of its task queue. */
export function appNameNear(dir: string): string | undefined {
  const manifest = searchUp(dir, ['package.json']);
  try {
    const name = manifest && (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: unknown }).name;
    return typeof name === 'string' && name ? name : undefined;
  } catch {
    return undefined;
  }
}

/** A config as loaded: with where it came from, for paths relative to it, and the app's name. */
export interface LoadedConfig extends TjuConfig {
  /** The config file, when one was loaded. */
  file?: string;
  /** The folder of the config file (the app's root). */
  root: string;
  appName?: string;
}

/**
 * Loads an app's config file. TypeScript loads without a build step through jiti (the loader ESLint,
 * Tailwind and Nuxt use for their TypeScript configs): it transpiles on the fly, caches the result, and
 * resolves the app's own imports the way Node does.
 */
export async function loadConfigFile(file: string): Promise<LoadedConfig> {
  const { createJiti } = await import('jiti');
  let loaded: unknown;
  try {
    loaded = await createJiti(file, { interopDefault: true }).import(file, { default: true });
  } catch (err) {
    throw new UserError(describeLoadError(err, file));
  }
  const root = path.dirname(file);
  return { ...checkConfig(loaded, relative(file)), file, root, appName: appNameNear(root) };
}

/**
 * One line for a config that does not load: where (file, line and column when the error says, as a syntax
 * error does) and what.
 */
function describeLoadError(err: unknown, file: string): string {
  const message = String((err as Error)?.message ?? err);
  const [first, ...rest] = message.split('\n');
  const what = first.trim();
  const at = /(\/[^\s:()]+):(\d+):(\d+)/.exec(rest.join('\n'));
  if (at) return `${relative(at[1])}:${at[2]}:${at[3]}: ${what}`;
  const hint = /Cannot find module 'tju'/.test(what) ? ' (is tju installed in this app?)' : '';
  return `${relative(file)}: ${what}${hint}`;
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

/** A path as a person in the working directory would write it: relative below it, absolute elsewhere. */
const relative = (file: string) => {
  const below = path.relative(process.cwd(), file);
  return below && !below.startsWith('..') ? below : file;
};
