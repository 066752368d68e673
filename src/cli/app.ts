import path from 'node:path';
import type { LoadedConfig } from '../appConfig';
import { loadConfig, type Config } from '../config';
import type { Batch } from '../batch';
import type { FailureHook, HookRetry } from '../hooks';

/** What every command works with: the app's batches, and its settings (read when first needed). */
export interface CliApp {
  readonly batches: readonly Batch[];
  /** The app's config file settings under the environment's; a bad variable fails only the command that reads it. */
  readonly config: Config;
  readonly onFailure?: FailureHook;
  readonly hookRetry?: HookRetry;
  /** The app's config file, when there is one. */
  readonly configFile?: string;
  /** The app's root (its config's folder), for the paths its config gives. */
  readonly root: string;
  /** The app's own migrations folder, absolute, when its config names one. */
  readonly migrations?: string;
  /** The app's name (its package.json's), the default of its task queue. */
  readonly appName?: string;
}

export function cliApp(app: LoadedConfig, env: NodeJS.ProcessEnv = process.env): CliApp {
  let config: Config | undefined;
  return {
    batches: app.batches,
    onFailure: app.onFailure,
    hookRetry: app.hookRetry,
    configFile: app.file,
    root: app.root,
    appName: app.appName,
    ...(app.migrations ? { migrations: path.resolve(app.root, app.migrations) } : {}),
    get config() {
      // The app's own task queue by default: two apps on one namespace never take each other's work.
      return (config ??= loadConfig(env, { ...app, taskQueue: app.taskQueue ?? app.appName }));
    },
  };
}
