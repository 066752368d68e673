import { createPool, migrate, UserError, type CliOptions } from 'tju';
import { runDemo } from './demo/demo';
import { applyBillingSchema } from './schema';

/** The billing app's own commands, beside tju's: `setup` (tju's schema and the app's tables) and `demo`. */
export const billingCommands: CliOptions['extend'] = (program, app) => {
  program
    .command('setup')
    .description("create or upgrade tju's schema and the billing tables")
    .action(async () => {
      const { databaseUrl, schema } = app.config;
      await migrate(databaseUrl, { schema });
      const pool = createPool(databaseUrl, 1);
      try {
        await applyBillingSchema(pool);
      } finally {
        await pool.end();
      }
      console.log('tju schema and billing tables are up to date');
    });

  program
    .command('demo')
    .description('seed subscriptions and bill them through Temporal, twice, on a local setup')
    .option('--subscriptions <n>', 'subscriptions to seed', '1000')
    .action((options: { subscriptions: string }) => {
      const n = Number(options.subscriptions);
      if (!Number.isInteger(n) || n <= 0) throw new UserError(`--subscriptions: expected a positive whole number (got ${options.subscriptions})`);
      return runDemo(app.batches, app.config, n);
    });
};
