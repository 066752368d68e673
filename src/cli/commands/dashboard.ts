import type { Command } from 'commander';
import type { CliApp } from '../app';
import { createPool } from '../../db/pool';
import { checkMigrated } from '../../db/migrate';
import { collect, durationMs, isLoopback, port, traceUrlTemplate } from '../parsers';
import { UserError } from '../../errors';

import { cannotListen, untilSignalled } from '../serve';
import { openSession } from '../session';

interface DashboardFlags {
  port: number;
  host: string;
  userHeader?: string;
  trustedProxy?: string[];
  allowedHost?: string[];
  sessionIdle?: number;
  sessionMax?: number;
  statementTimeout?: number;
  traceUrl?: string;
}

/** Flags that would expose the dashboard or believe a header from anyone: refused in one line, before connecting. */
function refuseUnsafe(flags: DashboardFlags, token: string | undefined): void {
  if (!token && !isLoopback(flags.host)) {
    throw new UserError(
      `--host ${flags.host} serves every run, and the options jobs carry, to whoever reaches it: set TJU_DASHBOARD_TOKEN first`,
    );
  }
  if (flags.userHeader && !flags.trustedProxy?.length) {
    throw new UserError('--user-header is believed only from the proxy that sets it: add --trusted-proxy <its address>');
  }
}

export function registerDashboard(program: Command, app: CliApp): void {
  program
    .command('dashboard')
    .description('serve the operators’ web page: runs, live progress, failures by cause, targets, schedules, and their buttons')
    .option('--port <port>', 'port to listen on', port, 8080)
    .option('--host <host>', 'address to listen on (anyone who reaches it sees every run)', '127.0.0.1')
    .option('--user-header <name>', 'a header the trusted proxy sets to the signed-in user (recorded as who acted)')
    .option('--trusted-proxy <address>', 'a proxy in front whose --user-header and X-Forwarded-Proto are believed (repeatable)', collect)
    .option('--allowed-host <name>', 'a host name it answers to besides localhost, 127.0.0.1 and [::1] (repeatable)', collect)
    .option('--session-idle <duration>', 'sign an operator out after this long without a request (default 1h)', durationMs)
    .option('--session-max <duration>', 'sign an operator out this long after sign-in (default 12h)', durationMs)
    .option('--statement-timeout <duration>', 'the longest any of its queries may run (default 10s)', durationMs)
    .option(
      '--trace-url <template>',
      'link runs and targets to their traces: a URL with {traceId}, e.g. http://localhost:16686/trace/{traceId} (TJU_TRACE_URL)',
      traceUrlTemplate,
    )
    .addHelpText(
      'after',
      '\nWithout TJU_DASHBOARD_TOKEN it is read-only and listens on loopback only; with it, every page needs a sign-in' +
        ' (the token and a name) or Authorization: Bearer <token>. See docs/dashboard.md#security.',
    )
    .action(async (flags: DashboardFlags) => {
      refuseUnsafe(flags, app.config.dashboardToken);
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
            trustedProxies: flags.trustedProxy,
            allowedHosts: flags.allowedHost,
            sessionIdleMs: flags.sessionIdle,
            sessionMaxMs: flags.sessionMax,
            statementTimeoutMs: flags.statementTimeout,
            codecKeys: config.temporal.codec !== undefined,
            traceUrl: flags.traceUrl ?? config.traceUrl,
            port: flags.port,
            host: flags.host,
          });
        } catch (err) {
          await session.close();
          throw cannotListen(flags.host, flags.port, err as NodeJS.ErrnoException);
        }
        const mode = config.dashboardToken
          ? 'every page needs a sign-in with TJU_DASHBOARD_TOKEN'
          : 'read-only: set TJU_DASHBOARD_TOKEN to enable the buttons';
        console.log(`dashboard on http://${flags.host}:${flags.port} (${mode}); Ctrl-C stops it`);
        await untilSignalled(server);
        await session.close();
      } finally {
        await pool.end();
      }
    });
}
