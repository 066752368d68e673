import type { CliOptions } from 'tju';
import { addSetupCommand, demoCount } from '../shared/commands';
import { runDemo } from './demo/demo';
import { applyBillingSchema } from './schema';

/** The billing app's own commands, beside tju's: `setup` (tju's schema and the app's tables) and `demo`. */
export const billingCommands: CliOptions['extend'] = (program, app) => {
  addSetupCommand(program, app, 'the billing tables', applyBillingSchema);

  program
    .command('demo')
    .description('seed subscriptions and bill them through Temporal, twice, on a local setup')
    .option('--subscriptions <n>', 'subscriptions to seed', '1000')
    .action((options: { subscriptions: string }) => runDemo(app.batches, app.config, demoCount('--subscriptions', options.subscriptions)));
};
