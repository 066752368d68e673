// The dashboard: server-rendered pages and the JSON behind them, on Hono. Mount `createDashboard(...).fetch`
// in any fetch-style server, or `dashboardListener(...)` in Node's http / Express; `tju dashboard` serves it.
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { csrf } from 'hono/csrf';
import { html } from 'hono/html';
import { HTTPException } from 'hono/http-exception';
import { UserError } from '../errors';
import { logger } from '../log';
import { assets } from './assets';
import { dashboardOf, type DashboardOptions } from './context';
import { registerActionRoutes, registerSessionRoutes } from './routes/actions';
import { registerReadRoutes } from './routes/reads';
import { layout } from './views/layout';

export type { DashboardOptions };

/** PostgreSQL's "canceling statement due to statement timeout". */
const STATEMENT_TIMEOUT = '57014';

/** The largest request body read: forms and JSON of a few fields. */
const MAX_BODY_BYTES = 64 * 1024;

/** Scripts and styles from the dashboard itself only; inline style attributes for the progress bars' widths. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "style-src-attr 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** The dashboard as a Hono app; `close()` ends its connections to PostgreSQL. */
export function createDashboard(options: DashboardOptions): Hono & { close(): Promise<void> } {
  const dashboard = dashboardOf(options);
  const { base, pageContext, wantsJson } = dashboard;
  const app = new Hono();

  app.use('*', async (c, next) => {
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('X-Frame-Options', 'DENY');
    c.header('Referrer-Policy', 'same-origin');
    c.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    // Pages and answers hold target data: no cache keeps them (assets say otherwise for themselves).
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
  });
  // A page on another site that resolves its own name to this address (DNS rebinding) sends its own name.
  app.use('*', async (c, next) => {
    if (dashboard.allowsHost(c)) return next();
    const host = new URL(c.req.url).hostname.slice(0, 100);
    return c.text(`host '${host}' is not one this dashboard answers to: add it with --allowed-host (allowedHosts)\n`, 400);
  });
  // Bodies are limited before anything reads them.
  app.use('*', bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => c.text('request body too large\n', 413) }));
  // Cross-site form posts are refused before any handler (Origin / Sec-Fetch-Site); forms also carry a token.
  app.use('*', csrf());
  // Who sent it, once per request; without a session or the token, a dashboard with a token shows nothing.
  app.use('*', async (c, next) => {
    const path = c.req.path;
    // Assets are the same for everyone: no session to look up for them.
    if (path.startsWith(`${base}/assets/`)) return next();
    await dashboard.auth.resolve(c);
    if (dashboard.auth.mayRead(c) || path === `${base}/login`) return next();
    if (wantsJson(c)) return c.json({ error: 'sign in first: send the session cookie or Authorization: Bearer <token>' }, 401);
    return c.redirect(`${base}/login`, 303);
  });

  app.onError((err, c) => {
    if (err instanceof HTTPException) return err.getResponse();
    // A query cancelled by the dashboard's statement timeout: the database is busy, not the request wrong.
    const timedOut = (err as { code?: string }).code === STATEMENT_TIMEOUT;
    const message =
      err instanceof UserError
        ? err.message
        : timedOut
          ? "PostgreSQL did not answer within the dashboard's statement timeout (--statement-timeout): try again"
          : `${err.name}: ${err.message}`;
    const status = err instanceof UserError ? 400 : timedOut ? 503 : 500;
    if (!(err instanceof UserError))
      logger[timedOut ? 'warn' : 'error']({ err: err.message, path: c.req.path }, 'dashboard request failed');
    if (wantsJson(c)) return c.json({ error: message }, status);
    return c.html(layout({ ...pageContext(c), error: message }, 'Error', html``), status);
  });

  registerReadRoutes(app, dashboard);
  registerSessionRoutes(app, dashboard);
  registerActionRoutes(app, dashboard);

  app.get(`${base}/assets/:name`, (c) => {
    const asset = assets[c.req.param('name')];
    if (!asset) return c.notFound();
    return c.body(asset.body(), 200, { 'Content-Type': asset.type, 'Cache-Control': 'max-age=3600' });
  });
  return Object.assign(app, { close: () => dashboard.close() });
}
