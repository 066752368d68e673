import type { Context, Hono } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { html } from 'hono/html';
import { UserError } from '../../errors';
import type { FailureFilter } from '../../contracts/types';
import { actOnRun, actOnSchedule, type RunActionName, type ScheduleActionName } from '../actions';
import { SESSION_COOKIE } from '../auth';
import type { Dashboard } from '../context';
import { layout } from '../views/layout';
import { loginPage } from '../views/target';
import { runOf } from './reads';

const RUN_ACTIONS: readonly RunActionName[] = ['pause', 'resume', 'cancel', 'cancel-now', 'retry', 'clear'];
const SCHEDULE_ACTIONS: readonly ScheduleActionName[] = ['pause', 'unpause', 'trigger'];

/** Signing in and out, and the buttons: every change a POST, refused unless signed in with a valid form. */
export function registerActionRoutes(app: Hono, dashboard: Dashboard): void {
  const { options, base, auth, schedules, pageContext, wantsJson, remote } = dashboard;
  const { pool, tju, schema } = options;

  app.get(`${base}/login`, (c) => c.html(loginPage(pageContext(c))));
  app.post(`${base}/login`, async (c) => {
    const form = await c.req.parseBody();
    const name = typeof form.name === 'string' ? form.name.trim().slice(0, 100) : '';
    if (!auth.tokenMatches(typeof form.token === 'string' ? form.token : '') || !name) {
      return c.html(loginPage({ ...pageContext(c), error: auth.readOnly ? 'read-only dashboard' : 'wrong token (or no name)' }), 401);
    }
    setCookie(c, SESSION_COOKIE, auth.session(name), { httpOnly: true, sameSite: 'Strict', path: base || '/' });
    return c.redirect(`${base}/`, 303);
  });
  app.post(`${base}/logout`, (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: base || '/' });
    return c.redirect(`${base}/`, 303);
  });

  /** A button's POST: refused unless signed in with a valid form; then done, recorded, and reported back. */
  const mutate = async (c: Context, back: string, act: (actor: string, form: Record<string, unknown>) => Promise<string>) => {
    const json = (c.req.header('content-type') ?? '').startsWith('application/json');
    const form = (json ? await c.req.json().catch(() => ({})) : await c.req.parseBody()) as Record<string, unknown>;
    const refused = auth.refuse(c, form);
    if (refused)
      return wantsJson(c) ? c.json({ error: refused }, 403) : c.html(layout({ ...pageContext(c), error: refused }, 'Refused', html``), 403);
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
        const params = run.starts.find((row) => row.kind === 'run')?.params ?? run.starts[0]?.params ?? {};
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
        return actOnSchedule(schedules, batch, action, actor);
      });
    };
    app.post(`${base}/schedules/:batch/${action}`, handler);
    app.post(`${base}/api/schedules/:batch/${action}`, handler);
  }
}
