import { Command } from 'commander';
import type { Batch } from '../batch';
import { kebab } from '../util/commandFlags';

/**
 * Adds one subcommand per batch under `parent`, with a `--flag <value>` per key of the batch's params,
 * so `tju trigger <batch> --help` lists them and an unknown flag is refused before anything runs.
 */
export function addBatchCommands(
  parent: Command,
  batches: readonly Batch[],
  configure: (command: Command) => Command,
  action: (batch: Batch, params: Record<string, string>, options: Record<string, unknown>) => Promise<void>,
): void {
  for (const batch of batches) {
    const command = parent.command(batch.name).description(batch.description ?? '');
    const keys = Object.keys(batch.params.shape);
    for (const key of keys) {
      const described = (batch.params.shape[key] as { description?: string }).description;
      command.option(`--${kebab(key)} <value>`, described ?? key);
    }
    configure(command).action(async (options: Record<string, unknown>) => {
      const params = Object.fromEntries(keys.filter((key) => options[key] !== undefined).map((key) => [key, String(options[key])]));
      await action(batch, params, options);
    });
  }
}
