import type { CliOptions } from 'tju';
import { addSetupCommand, demoCount } from '../shared/commands';
import { runDemo } from './demo/demo';
import { applyShopSchema } from './schema';
import { startShippingService } from './shipping/server';

/** The shop's own commands, beside tju's. */
export const shopCommands: CliOptions['extend'] = (program, app) => {
  addSetupCommand(program, app, "the shop's tables", applyShopSchema);

  program
    .command('shipping-service')
    .description("run the stand-in carrier API on SHIPPING_URL's port (default 4010) until Ctrl-C")
    .action(async () => {
      const service = await startShippingService(
        { delayMs: 20, failEvery: 7 },
        Number(new URL(process.env.SHIPPING_URL ?? 'http://127.0.0.1:4010').port),
      );
      console.log(`shipping service on ${service.url}`);
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
      await service.close();
    });

  program
    .command('demo')
    .description('seed orders and post-process them through Temporal: branching steps, a failing step, a fix, a retry')
    .option('--orders <n>', 'orders to seed', '300')
    .action((options: { orders: string }) => runDemo(app.batches, app.config, demoCount('--orders', options.orders)));
};
