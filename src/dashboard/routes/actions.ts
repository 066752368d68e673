import type { Context, Hono } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { html } from 'hono/html';
import { UserError } from '../../errors';
import type { FailureFilter } from '../../contracts/types';
import { actOnRun, actOnSchedule, type RunActionName, type ScheduleActionName } from '../actions';
import { SESSION_COOKIE } from '../auth';
import { createSession, revokeSession } from '../../db/dashboardSessions';
import { countRecentEvents, recordOperatorEvent, type OperatorEventKind } from '../../db/operatorEvents';
import { logger } from '../../log';
import type { Dashboard } from '../context';
import { layout } from '../views/layout';
import { loginPage } from '../views/target';
import { recordedParams, runOf } from './reads';

const RUN_ACTIONS: readonly RunActionName[] = ['pause', 'resume', 'cancel', 'cancel-now', 'retry', 'clear'];
const SCHEDULE_ACTIONS: readonly ScheduleActionName[] = ['pause', 'unpause', 'trigger'];
/** Failed sign-ins an address may make within the window before sign-in refuses it (429) until the window passes. */
const SIGN_IN_ATTEMPTS = 5;
const SIGN_IN_WINDOW_MS = 10 * 60_000;

/** Records what an operator did, or was refused, with the request's address. */
const operatorEvent =
  ({ options, remote }: Dashboard) =>
  (c: Context, kind: OperatorEventKind, actor: string, detail: Record<string, unknown> = {}, batch?: string) =>
    recordOperatorEvent(options.pool, { kind, actor, address: remote(c), batch, detail }, options.schema);

/** Signing in and out: a session per sign-in, failed ones counted per address, sign-out revoking it everywhere. */
export function registerSessionRoutes(app: Hono, dashboard: Dashboard): void {
  const { options, base, auth, pageContext, remote } = dashboard;
  const { pool, schema } = options;
  const event = operatorEvent(dashboard);

  app.get(`${base}/login`, (c) => c.html(loginPage(pageContext(c))));
  app.post(`${base}/login`, async (c) => {
    const address = remote(c) ?? 'unknown';
    const failures = await countRecentEvents(pool, 'sign-in-failed', address, SIGN_IN_WINDOW_MS, schema);
    if (failures >= SIGN_IN_ATTEMPTS) {
      logger.warn({ address }, 'dashboard sign-in refused: too many failed attempts');
      const wait = `${SIGN_IN_WINDOW_MS / 60_000} minutes`;
      c.header('Retry-After', String(SIGN_IN_WINDOW_MS / 1000));
      return c.html(loginPage({ ...pageContext(c), error: `too many failed sign-ins from ${address}: try again in ${wait}` }), 429);
    }
    const form = await c.req.parseBody();
    const name = typeof form.name === 'string' ? form.name.trim().slice(0, 100) : '';
    if (!auth.tokenMatches(typeof form.token === 'string' ? form.token : '') || !name) {
      logger.warn({ address, name }, 'dashboard sign-in failed');
      await event(c, 'sign-in-failed', `dashboard:${name || '?'}`);
      return c.html(loginPage({ ...pageContext(c), error: auth.readOnly ? 'read-only dashboard' : 'wrong token (or no name)' }), 401);
    }
    const id = await createSession(pool, { name, address: remote(c), absoluteMs: dashboard.timeouts.absoluteMs }, schema);
    setCookie(c, SESSION_COOKIE, id, { httpOnly: true, sameSite: 'Strict', secure: auth.secure(c, remote(c)), path: base || '/' });
    await event(c, 'sign-in', `dashboard:${name}`);
    return c.redirect(`${base}/`, 303);
  });
  app.post(`${base}/logout`, async (c) => {
    const { sessionId } = auth.of(c);
    if (sessionId) {
      await revokeSession(pool, sessionId, schema);
      await event(c, 'sign-out', auth.actor(c, remote(c)));
    }
    deleteCookie(c, SESSION_COOKIE, { path: base || '/' });
    return c.redirect(`${base}/`, 303);
  });
}

/** The buttons: every change a POST, refused unless signed in with a valid form. */
export function registerActionRoutes(app: Hono, dashboard: Dashboard): void {
  const { options, base, auth, schedules, pageContext, wantsJson, remote } = dashboard;
  const { pool, tju, schema } = options;

  const event = operatorEvent(dashboard);

  /** Says no to a post, in the log and the operator events too: someone tried something. */
  const refuse = async (c: Context, why: string) => {
    logger.warn({ address: remote(c), path: c.req.path, why }, 'dashboard refused a post');
    await event(c, 'refused', auth.actor(c, remote(c)), { path: c.req.path, why });
    return wantsJson(c) ? c.json({ error: why }, 403) : c.html(layout({ ...pageContext(c), error: why }, 'Refused', html``), 403);
  };

  /** A button's POST: refused unless signed in (before its body is read) with a valid form; then done, recorded, reported back. */
  const mutate = async (c: Context, back: string, act: (actor: string, form: Record<string, unknown>) => Promise<string>) => {
    const early = auth.refuseBeforeBody(c);
    if (early) return refuse(c, early);
    const json = (c.req.header('content-type') ?? '').startsWith('application/json');
    const form = (json ? await c.req.json().catch(() => ({})) : await c.req.parseBody()) as Record<string, unknown>;
    const refused = auth.refuseForm(c, form);
    if (refused) return refuse(c, refused);
    let said: string;
    try {
      said = await act(auth.actor(c, remote(c)), form);
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      return wantsJson(c) ? c.json({ error: err.message }, 409) : c.redirect(`${back}?error=${encodeURIComponent(err.message)}`, 303);
    }
    return wantsJson(c) ? c.json({ done: said }) : c.redirect(`${back}?done=${encodeURIComponent(said)}`, 303);
  };

  const filterOf = (form: Record<string, unknown>): FailureFilter => {
    const filter: FailureFilter = {};
    // A button acts on one group exactly (its step and masked error) or one target, never on a text match.
    if (typeof form.group === 'string' && form.group && typeof form.unit === 'string' && form.unit) {
      filter.group = { error: form.group, unit: form.unit };
    }
    if (typeof form.target === 'string' && form.target) filter.target = form.target;
    return filter;
  };

  for (const action of RUN_ACTIONS) {
    const handler = async (c: Context) => {
      // The page to go back to comes from the path alone: a refused request looks nothing up.
      const back = `${base}/runs/${encodeURIComponent(c.req.param('id') ?? '')}${action === 'retry' || action === 'clear' ? '/failures' : ''}`;
      return mutate(c, back, async (actor, form) => {
        const run = await runOf(dashboard, c);
        const params = recordedParams(run);
        return actOnRun({ pool, tju, schema, actor }, { batch: run.batch, runKey: run.runKey, params }, action, filterOf(form));
      });
    };
    app.post(`${base}/runs/:id/${action}`, handler);
    app.post(`${base}/api/runs/:id/${action}`, handler);
  }
  for (const action of SCHEDULE_ACTIONS) {
    const handler = async (c: Context) => {
      const batch = c.req.param('batch') ?? '';
      return mutate(c, `${base}/schedules`, async (actor) => {
        if (!options.batches.some((b) => b.name === batch && b.schedule)) throw new UserError(`no schedule for ${batch}`);
        const said = await actOnSchedule(schedules, batch, action, actor);
        await event(c, `schedule-${action}`, actor, {}, batch);
        return said;
      });
    };
    app.post(`${base}/schedules/:batch/${action}`, handler);
    app.post(`${base}/api/schedules/:batch/${action}`, handler);
  }
}
