import type { TjuConfig } from '../appConfig';
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
}

export function cliApp(app: TjuConfig, env: NodeJS.ProcessEnv = process.env): CliApp {
  let config: Config | undefined;
  return {
    batches: app.batches,
    onFailure: app.onFailure,
    hookRetry: app.hookRetry,
    get config() {
      return (config ??= loadConfig(env, app));
    },
  };
}
