// The dashboard: server-rendered pages and the JSON behind them, on Hono. Mount `createDashboard(...).fetch`
// in any fetch-style server, or `dashboardListener(...)` in Node's http / Express; `tju dashboard` serves it.
import { Hono } from 'hono';
import { csrf } from 'hono/csrf';
import { html } from 'hono/html';
import { HTTPException } from 'hono/http-exception';
import { UserError } from '../errors';
import { assets } from './assets';
import { dashboardOf, type DashboardOptions } from './context';
import { registerActionRoutes } from './routes/actions';
import { registerReadRoutes } from './routes/reads';
import { layout } from './views/layout';

export type { DashboardOptions };

export function createDashboard(options: DashboardOptions): Hono {
  const dashboard = dashboardOf(options);
  const { base, pageContext, wantsJson } = dashboard;
  const app = new Hono();

  // Cross-site form posts are refused before any handler (Origin / Sec-Fetch-Site); forms also carry a token.
  app.use('*', csrf());
  app.use('*', async (c, next) => {
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('X-Frame-Options', 'DENY');
    c.header('Referrer-Policy', 'same-origin');
  });

  app.onError((err, c) => {
    if (err instanceof HTTPException) return err.getResponse();
    const message = err instanceof UserError ? err.message : `${err.name}: ${err.message}`;
    const status = err instanceof UserError ? 400 : 500;
    if (!(err instanceof UserError)) console.error(err);
    if (wantsJson(c)) return c.json({ error: message }, status);
    return c.html(layout({ ...pageContext(c), error: message }, 'Error', html``), status);
  });

  registerReadRoutes(app, dashboard);
  registerActionRoutes(app, dashboard);

  app.get(`${base}/assets/:name`, (c) => {
    const asset = assets[c.req.param('name')];
    if (!asset) return c.notFound();
    return c.body(asset.body(), 200, { 'Content-Type': asset.type, 'Cache-Control': 'max-age=3600' });
  });
  return app;
}
