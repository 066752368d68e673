import type { Command } from 'commander';
import type { Batch } from '../../definitions';
import { runDemo } from '../../demo/demo';
import { positiveInt } from '../parsers';

export function registerDemo(program: Command, batches: readonly Batch[]): void {
  program
    .command('demo')
    .description('seed subscriptions and bill them through Temporal, twice, on a local setup')
    .option('--subscriptions <n>', 'subscriptions to seed', positiveInt, 1000)
    .action((options: { subscriptions: number }) => runDemo(batches, options.subscriptions));
}
