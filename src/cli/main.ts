import { Command, CommanderError } from 'commander';
import { checkConfig, findConfigFile, loadConfigFile, type TjuConfig } from '../appConfig';
import { UserError } from '../errors';
import { cliApp, type CliApp } from './app';
import { registerCodecServer } from './commands/codecServer';
import { registerControl } from './commands/control';
import { registerFailures } from './commands/failures';
import { registerMigrate } from './commands/migrate';
import { registerClear, registerRetry } from './commands/retry';
import { registerPrune } from './commands/prune';
import { registerRuns } from './commands/runs';
import { registerScaffold } from './commands/scaffold';
import { registerSchedule } from './commands/schedule';
import { registerStatus } from './commands/status';
import { registerTemporal } from './commands/temporal';
import { registerTrigger } from './commands/trigger';
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
  registerTrigger(program, app);
  registerStatus(program, app);
  registerControl(program, app);
  registerRuns(program, app);
  registerFailures(program, app);
  registerRetry(program, app);
  registerClear(program, app);
  registerVerify(program, app);
  registerPrune(program, app);
  registerSchedule(program, app);
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
    const app = cliApp(checkConfig(config, 'config'));
    await buildProgram(app, options).parseAsync(argv);
  });
}

/** Commands that work without an app's config: they touch only tju's own tables or Temporal. */
const WITHOUT_CONFIG = new Set(['migrate', 'temporal', 'help', 'init', 'make:batch']);

/** The `tju` binary: the app's config from `--config` or the working directory, then the command. */
export async function main(argv: string[]): Promise<number> {
  return guard(async () => {
    const { configPath, command } = peek(argv.slice(2));
    let config: TjuConfig = { batches: [] };
    if (configPath || !(command === undefined || WITHOUT_CONFIG.has(command))) {
      config = await loadConfigFile(findConfigFile(configPath));
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
    if (err instanceof UserError) {
      console.error(`tju: ${err.message}`);
      return 2;
    }
    if (/Unknown encoding: binary\/encrypted/.test(String((err as Error)?.message))) {
      console.error("tju: the run's payloads are encrypted: set TJU_CODEC_KEYS to the keys its workers use");
      return 2;
    }
    console.error(err);
    return 1;
  }
}
