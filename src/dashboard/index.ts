import http from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { createDashboard, type DashboardOptions } from './app';

export { createDashboard, type DashboardOptions };

/** The dashboard as a Node request listener, for `http.createServer` or an Express app (`app.use('/tju', …)`). */
export function dashboardListener(options: DashboardOptions): http.RequestListener {
  return getRequestListener(createDashboard(options).fetch);
}

/** Serves the dashboard on its own port; resolves once listening. */
export async function serveDashboard(options: DashboardOptions & { port: number; host: string }): Promise<http.Server> {
  const server = http.createServer(dashboardListener(options));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
