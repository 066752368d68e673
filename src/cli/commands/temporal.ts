import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import type { CliApp } from '../app';
import { ensureTemporalCli } from '../../temporal/devServer';

/**
 * `tju temporal <args>`: Temporal's own CLI (found on PATH or the one tju built into its cache), pointed at
 * the server and namespace tju is configured for, so every recipe in the README works as printed.
 */
export function registerTemporal(program: Command, app: CliApp): void {
  program
    .command('temporal')
    .description("run Temporal's CLI against tju's server, e.g. tju temporal workflow list --query \"TjuBatch='…'\"")
    .argument('[args...]', 'arguments for temporal')
    .helpOption(false)
    .allowUnknownOption()
    .passThroughOptions()
    .action(async (args: string[]) => {
      const config = app.config;
      const binary = ensureTemporalCli();
      const child = spawn(binary, args, {
        stdio: 'inherit',
        // The temporal CLI reads these itself; flags given in `args` still win.
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: config.temporal.address,
          TEMPORAL_NAMESPACE: config.temporal.namespace,
        },
      });
      process.exitCode = await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
    });
}
