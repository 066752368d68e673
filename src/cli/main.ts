import { Command, CommanderError } from 'commander';
import {
  appNameNear,
  checkConfig,
  CONFIG_FILES,
  findConfigFile,
  loadConfigFile,
  searchUp,
  type LoadedConfig,
  type TjuConfig,
} from '../appConfig';
import { UserError } from '../errors';
import { CodecKeyError, isUnreadablePayload, unreadableNote } from '../codec';
import { cliApp, type CliApp } from './app';
import { registerCodecServer } from './commands/codecServer';
import { registerControl } from './commands/control';
import { registerDashboard } from './commands/dashboard';
import { registerFailures } from './commands/failures';
import { registerHealth } from './commands/health';
import { registerBuilds } from './commands/builds';
import { registerMigrate } from './commands/migrate';
import { registerClear, registerRetry } from './commands/retry';
import { registerPrune } from './commands/prune';
import { registerRuns } from './commands/runs';
import { registerScaffold } from './commands/scaffold';
import { registerSchedule } from './commands/schedule';
import { registerStatus } from './commands/status';
import { registerTemporal } from './commands/temporal';
import { registerTrigger } from './commands/trigger';
import { registerPlan } from './commands/plan';
import { registerVerify } from './commands/verify';
import { registerWorker } from './commands/worker';

export interface CliOptions {
  /** Adds an app's own commands, the way a Laravel app adds artisan commands. */
  extend?: (program: Command, app: CliApp) => void;
}

export function buildProgram(app: CliApp, options: CliOptions = {}): Command {
  const program = new Command('tju')
    .description('Trigger–Job–Unit batches on Temporal and PostgreSQL')
    .option('--config <file>', "the app's tju config (default: tju.config.ts, .mjs or .js in the working directory)")
    .exitOverride()
    // Options after a subcommand belong to it: `tju temporal …` hands its own to Temporal's CLI.
    .enablePositionalOptions()
    .configureOutput({
      outputError: (message, write) =>
        write(
          `tju: ${message
            .replace(/^error: /, '')
            .replace(/\s*\n\s*/g, ' ')
            .trim()}\n`,
        ),
    });
  registerWorker(program, app);
  registerHealth(program, app);
  registerBuilds(program, app);
  registerTrigger(program, app);
  registerPlan(program, app);
  registerStatus(program, app);
  registerControl(program, app);
  registerRuns(program, app);
  registerFailures(program, app);
  registerRetry(program, app);
  registerClear(program, app);
  registerVerify(program, app);
  registerPrune(program, app);
  registerSchedule(program, app);
  registerDashboard(program, app);
  registerMigrate(program, app);
  registerTemporal(program, app);
  registerCodecServer(program, app);
  registerScaffold(program, app);
  options.extend?.(program, app);
  // Subcommands inherit exitOverride and output settings only when set before they exist; set them again.
  const apply = (command: Command) => {
    command.exitOverride().configureOutput(program.configureOutput());
    command.commands.forEach(apply);
  };
  program.commands.forEach(apply);
  return program;
}

/**
 * Runs tju's CLI for an app that owns its entry point (`node cli.js worker`). Resolves with the exit code:
 * 0 ok, 1 a run failed or an unexpected error, 2 bad input.
 */
export async function runCli(argv: string[], config: TjuConfig, options: CliOptions = {}): Promise<number> {
  return guard(async () => {
    const app = cliApp({ ...checkConfig(config, 'config'), root: process.cwd(), appName: appNameNear(process.cwd()) });
    await buildProgram(app, options).parseAsync(argv);
  });
}

/** Commands that work without an app's config (they use one when there is one): tju's own tables, Temporal, scaffolding. */
const WITHOUT_CONFIG = new Set(['migrate', 'temporal', 'init', 'make:batch', 'codec-server']);

/** The `tju` binary: the app's config from `--config`, the working directory or above it, then the command. */
export async function main(argv: string[]): Promise<number> {
  return guard(async () => {
    const { configPath, command } = peek(argv.slice(2));
    const help = command === undefined || command === 'help' || argv.includes('--help') || argv.includes('-h');
    let config: LoadedConfig = { batches: [], root: process.cwd() };
    if (help) {
      // Help works anywhere: with the app's batches when there is an app, without them when there is none.
      // A config named with --config must load; one found on the way up only adds its batches to the help.
      if (configPath) config = await loadConfigFile(findConfigFile(configPath));
      else {
        const file = searchUp(process.cwd(), CONFIG_FILES);
        if (file) config = await loadConfigFile(file).catch(() => config);
      }
    } else if (configPath || !WITHOUT_CONFIG.has(command)) {
      config = await loadConfigFile(findConfigFile(configPath));
    } else {
      const file = searchUp(process.cwd(), CONFIG_FILES);
      if (file) config = await loadConfigFile(file);
    }
    await buildProgram(cliApp(config)).parseAsync(argv);
  });
}

/** `--config` and the command name, read before the program (whose batch commands come from the config) exists. */
function peek(args: string[]): { configPath?: string; command?: string } {
  let configPath: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--config') return { configPath: args[i + 1], command: args.find((a, j) => j > i + 1 && !a.startsWith('-')) };
    if (args[i].startsWith('--config=')) configPath = args[i].slice('--config='.length);
    else if (!args[i].startsWith('-')) return { configPath, command: args[i] };
  }
  return { configPath };
}

async function guard(run: () => Promise<void>): Promise<number> {
  try {
    await run();
    return Number(process.exitCode ?? 0);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2; // commander printed the line
    // A payload this process cannot decrypt (no keys, or not the right one): one line, whatever wraps it.
    if (err instanceof CodecKeyError || isUnreadablePayload(err)) {
      console.error(`tju: ${unreadableNote(err)}`);
      return 2;
    }
    if (err instanceof UserError) {
      console.error(`tju: ${err.message}`);
      return 2;
    }
    console.error(err);
    return 1;
  }
}
