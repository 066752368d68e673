import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { DEFAULT_TEMPORAL_ADDRESS, loadConfig } from '../../config';
import { ensureTemporalCli } from '../../temporal/devServer';

/**
 * `tju temporal <args>`: Temporal's own CLI (found on PATH or the one tju built into its cache), pointed at
 * the server and namespace tju is configured for, so every recipe in the README works as printed.
 */
export function registerTemporal(program: Command): void {
  program
    .command('temporal')
    .description("run Temporal's CLI against tju's server, e.g. tju temporal workflow list --query \"TjuBatch='…'\"")
    .argument('[args...]', 'arguments for temporal')
    .helpOption(false)
    .allowUnknownOption()
    .passThroughOptions()
    .action(async (args: string[]) => {
      const config = loadConfig();
      const binary = ensureTemporalCli();
      const child = spawn(binary, args, {
        stdio: 'inherit',
        // The temporal CLI reads these itself; flags given in `args` still win.
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: config.temporalAddress ?? DEFAULT_TEMPORAL_ADDRESS,
          TEMPORAL_NAMESPACE: config.namespace,
        },
      });
      process.exitCode = await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
    });
}
