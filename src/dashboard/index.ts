import http from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { createDashboard, type DashboardOptions } from './app';

export { createDashboard, type DashboardOptions };

/**
 * The dashboard as a Node request listener, for `http.createServer` or an Express app (`app.use('/tju', …)`);
 * `close()` ends its connections to PostgreSQL.
 */
export function dashboardListener(options: DashboardOptions): http.RequestListener & { close(): Promise<void> } {
  const dashboard = createDashboard(options);
  return Object.assign(getRequestListener(dashboard.fetch), { close: () => dashboard.close() });
}

/** Serves the dashboard on its own port; resolves once listening. Closing the server ends its connections. */
export async function serveDashboard(options: DashboardOptions & { port: number; host: string }): Promise<http.Server> {
  const listener = dashboardListener(options);
  const server = http.createServer(listener);
  server.on('close', () => void listener.close().catch(() => undefined));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
