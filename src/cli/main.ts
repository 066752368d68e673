import { Command, CommanderError } from 'commander';
import { batches as appBatches } from '../../batches';
import type { Batch } from '../definitions';
import { UserError } from '../errors';
import { registerDemo } from './commands/demo';
import { registerFailures } from './commands/failures';
import { registerClear, registerRetry } from './commands/retry';
import { registerRuns } from './commands/runs';
import { registerSchedule } from './commands/schedule';
import { registerMigrate } from './commands/migrate';
import { registerStatus } from './commands/status';
import { registerTemporal } from './commands/temporal';
import { registerTrigger } from './commands/trigger';
import { registerWorker } from './commands/worker';
import { installRuntime } from '../temporal/runtime';

export function buildProgram(batches: readonly Batch[]): Command {
  const program = new Command('tju')
    .description('Trigger–Job–Unit batches on Temporal and PostgreSQL')
    .exitOverride()
    // Options after a subcommand belong to it: `tju temporal …` hands its own to Temporal's CLI.
    .enablePositionalOptions()
    .configureOutput({ outputError: (message, write) => write(`tju: ${message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim()}\n`) });
  registerWorker(program, batches);
  registerTrigger(program, batches);
  registerStatus(program, batches);
  registerRuns(program, batches);
  registerFailures(program, batches);
  registerRetry(program, batches);
  registerClear(program, batches);
  registerSchedule(program, batches);
  registerMigrate(program);
  registerDemo(program, batches);
  registerTemporal(program);
  // Subcommands inherit exitOverride and output settings only when set before they exist; set them again.
  const apply = (command: Command) => {
    command.exitOverride().configureOutput(program.configureOutput());
    command.commands.forEach(apply);
  };
  program.commands.forEach(apply);
  return program;
}

/** Runs the CLI; resolves with the exit code: 0 ok, 1 a run failed or an unexpected error, 2 bad input. */
export async function main(argv: string[], batches: readonly Batch[] = appBatches): Promise<number> {
  installRuntime();
  try {
    await buildProgram(batches).parseAsync(argv);
    return Number(process.exitCode ?? 0);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2; // commander printed the line
    if (err instanceof UserError) {
      console.error(`tju: ${err.message}`);
      return 2;
    }
    console.error(err);
    return 1;
  }
}
