import type { Command } from 'commander';
import type { CliApp } from '../app';
import { createPool } from '../../db/pool';
import { checkMigrated } from '../../db/migrate';
import { port } from '../parsers';
import { cannotListen, untilSignalled } from '../serve';
import { openSession } from '../session';

interface DashboardFlags {
  port: number;
  host: string;
  userHeader?: string;
}

export function registerDashboard(program: Command, app: CliApp): void {
  program
    .command('dashboard')
    .description('serve the operators’ web page: runs, live progress, failures by cause, targets, schedules, and their buttons')
    .option('--port <port>', 'port to listen on', port, 8080)
    .option('--host <host>', 'address to listen on (anyone who reaches it sees every run)', '127.0.0.1')
    .option('--user-header <name>', 'a header a trusted proxy in front sets to the signed-in user (recorded as who acted)')
    .addHelpText('after', '\nWithout TJU_DASHBOARD_TOKEN it is read-only; with it, operators sign in with the token to use the buttons.')
    .action(async (flags: DashboardFlags) => {
      const { serveDashboard } = await import('../../dashboard'); // loaded only by this command
      const { config } = app;
      const pool = createPool(config.databaseUrl, 10);
      try {
        await checkMigrated(pool, config.databaseUrl, config.schema);
        const session = await openSession(app.batches, config, pool);
        let server;
        try {
          server = await serveDashboard({
            pool,
            tju: session.tju,
            client: session.client,
            batches: app.batches,
            taskQueue: config.taskQueue,
            schema: config.schema,
            token: config.dashboardToken,
            userHeader: flags.userHeader,
            codecKeys: config.temporal.codec !== undefined,
            port: flags.port,
            host: flags.host,
          });
        } catch (err) {
          await session.close();
          throw cannotListen(flags.host, flags.port, err as NodeJS.ErrnoException);
        }
        const mode = config.dashboardToken
          ? 'sign in with TJU_DASHBOARD_TOKEN to use the buttons'
          : 'read-only: set TJU_DASHBOARD_TOKEN to enable the buttons';
        console.log(`dashboard on http://${flags.host}:${flags.port} (${mode}); Ctrl-C stops it`);
        await untilSignalled(server);
        await session.close();
      } finally {
        await pool.end();
      }
    });
}
