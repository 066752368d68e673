// The dashboard: server-rendered pages and the JSON behind them, on Hono. Mount `createDashboard(...).fetch`
// in any fetch-style server, or `dashboardListener(...)` in Node's http / Express; `tju dashboard` serves it.
import { Hono, type Context } from 'hono';
import { csrf } from 'hono/csrf';
import { HTTPException } from 'hono/http-exception';
import { deleteCookie, setCookie } from 'hono/cookie';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import type { Batch } from '../batch';
import { failureGroups } from '../db/failureGroups';
import { tjuTables } from '../db/schema';
import { runRecordSource } from '../db/runHistory';
import { reading } from '../db/transaction';
import { listRunActions } from '../db/runActions';
import { UserError } from '../errors';
import type { TjuClient } from '../temporal/client';
import { TjuSchedules } from '../temporal/schedules';
import { jobWorkflowId, searchValue } from '../contracts/ids';
import type { FailureFilter } from '../contracts/types';
import { actOnRun, actOnSchedule, type RunActionName, type ScheduleActionName } from './actions';
import { assets } from './assets';
import { DashboardAuth, SESSION_COOKIE } from './auth';
import { batchesWithRuns, listRuns, runById, stepCounts, targetTimeline, throughput, type RunFilter, type RunRow } from './data';
import { liveProgress, partitionsOf, schedulesOf } from './live';
import { layout, type PageContext } from './views/layout';
import { failuresPage, runPage } from './views/run';
import { RUN_STATES, runsPage } from './views/runs';
import { loginPage, schedulesPage, targetPage } from './views/target';
import { html } from 'hono/html';

export interface DashboardOptions {
  pool: Pool;
  /** A client on the app's Temporal (with its batches, task queue and Web UI address). */
  tju: TjuClient;
  client: Client;
  batches: readonly Batch[];
  taskQueue: string;
  schema?: string;
  /** Enables the buttons (TJU_DASHBOARD_TOKEN); without it the dashboard is read-only. */
  token?: string;
  /** A header a trusted proxy sets to the signed-in user, recorded as who pressed a button. */
  userHeader?: string;
  /** Where the app mounts it, e.g. `/tju` (no trailing slash); default the root. */
  basePath?: string;
  /** Whether this process has the codec's keys (TJU_CODEC_KEYS). */
  codecKeys?: boolean;
  /** Runs per page of the runs list. */
  pageSize?: number;
}

const RUN_ACTIONS: readonly RunActionName[] = ['pause', 'resume', 'cancel', 'cancel-now', 'retry', 'clear'];
const SCHEDULE_ACTIONS: readonly ScheduleActionName[] = ['pause', 'unpause', 'trigger'];
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const NUMBER = /^\d{1,18}$/;
/** How long one reading of a run's ledger serves the run page's steps and chart. */
const LEDGER_CACHE_MS = 3000;

export function createDashboard(options: DashboardOptions): Hono {
  const { pool, tju, client, schema } = options;
  const base = options.basePath ?? '';
  const auth = new DashboardAuth(options.token, options.userHeader);
  const schedules = new TjuSchedules(client, options.batches, options.taskQueue);
  const app = new Hono();

  const pageContext = (c: Context): PageContext => ({
    base,
    readOnly: auth.readOnly,
    signedIn: auth.signedIn(c),
    csrf: auth.csrf(),
    codec: options.codecKeys ? 'keys' : 'none',
    flash: c.req.query('done')?.slice(0, 500),
    error: c.req.query('error')?.slice(0, 500),
  });
  const wantsJson = (c: Context) => c.req.path.startsWith(`${base}/api/`) || (c.req.header('accept') ?? '').startsWith('application/json');
  const remote = (c: Context) => {
    try {
      return getConnInfo(c).remote.address;
    } catch {
      return undefined; // not served by @hono/node-server
    }
  };

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

  /** The runs filter from the query string; anything malformed is a 400 that names it. */
  const runFilter = (c: Context): RunFilter => {
    const q = c.req.query();
    const filter: RunFilter = {};
    if (q.batch) filter.batch = q.batch;
    if (q.state) {
      if (!(RUN_STATES as readonly string[]).includes(q.state)) throw new UserError(`state must be one of ${RUN_STATES.join(', ')}`);
      filter.state = q.state;
    }
    for (const key of ['from', 'to'] as const) {
      if (!q[key]) continue;
      if (!DATE.test(q[key]) || Number.isNaN(Date.parse(q[key]))) throw new UserError(`${key} must be a date, YYYY-MM-DD`);
      filter[key] = q[key];
    }
    if (q.after) {
      if (!/^\d{4}-\d{2}-\d{2} [\d:.+-]+\|/.test(q.after)) throw new UserError('after: not a cursor this dashboard made');
      filter.after = q.after;
    }
    return filter;
  };

  /** The last finished run's total per batch: a running run's expected size. */
  const expectedTotals = async (batches: string[]): Promise<Map<string, number>> => {
    if (batches.length === 0) return new Map();
    const t = tjuTables(schema);
    const { rows } = await pool.query<{ batch: string; total: number }>(
      `SELECT DISTINCT ON (r.batch) r.batch, (h.counts->>'total')::int AS total
         FROM ${runRecordSource(t)}
        WHERE r.batch = ANY($1) AND h.state = 'completed' AND h.kind = 'run' AND h.counts ? 'total'
        ORDER BY r.batch, h.started_at DESC`,
      [batches],
    );
    return new Map(rows.map((row) => [row.batch, row.total]));
  };

  const runsData = async (c: Context) => {
    const filter = runFilter(c);
    const limit = options.pageSize ?? 50;
    const [{ rows, more }, batches] = await Promise.all([listRuns(pool, filter, limit, schema), batchesWithRuns(pool, schema)]);
    const running = rows.filter((row) => row.state === 'running' || row.state === 'paused');
    const [live, expected] = await Promise.all([liveProgress(tju, running), expectedTotals([...new Set(running.map((r) => r.batch))])]);
    return { rows, live, expected, batches, filter, next: more ? rows[rows.length - 1].cursor : undefined };
  };

  app.get(`${base}/`, async (c) => c.html(runsPage(pageContext(c), await runsData(c))));
  app.get(`${base}/api/runs`, async (c) => {
    const page = await runsData(c);
    return c.json({ runs: page.rows.map((row) => ({ ...row, live: page.live.get(row) })), next: page.next ?? null });
  });

  const runOf = async (c: Context) => {
    const id = c.req.param('id') ?? '';
    if (!NUMBER.test(id)) throw new UserError(`no run ${id}`);
    const run = await runById(pool, id, schema);
    if (!run) throw new UserError(`no run ${id}`);
    return { id, ...run };
  };

  const runData = async (c: Context) => {
    const run = await runOf(c);
    const latest = run.starts[0];
    const running = run.starts.filter((row) => row.state === 'running' || row.state === 'paused');
    const [live, actions, groups, partitions, expected] = await Promise.all([
      liveProgress(tju, running),
      listRunActions(pool, run.id, 50, schema),
      reading(pool, (tx) => failureGroups(tx, run.id, { samples: 0, limit: 1000 }, schema)),
      latest && latest.kind === 'run' ? partitionsOf(client, tju, latest.workflowId, 64).catch(() => []) : Promise.resolve([]),
      expectedTotals([run.batch]).then((m) => m.get(run.batch)),
    ]);
    const links = new Map<RunRow, string | undefined>(run.starts.map((row) => [row, tju.link(row.workflowId, row.executionId)]));
    const openFailures = { count: groups.reduce((n, g) => n + g.count, 0), groups: groups.length };
    return { ...run, live, actions, partitions, expected, links, openFailures };
  };

  // What the run's ledger says (counts per step, throughput over time) reads every row of the run: the page
  // loads it after itself, and a few seconds' answer serves every operator polling meanwhile.
  const ledgerViews = new Map<string, { at: number; data: Promise<unknown> }>();
  app.get(`${base}/api/runs/:id/ledger`, async (c) => {
    const id = c.req.param('id');
    if (!NUMBER.test(id)) throw new UserError(`no run ${id}`);
    let cached = ledgerViews.get(id);
    if (!cached || Date.now() - cached.at > LEDGER_CACHE_MS) {
      const data = Promise.all([stepCounts(pool, id, schema), throughput(pool, id, schema)]).then(([steps, chart]) => ({
        steps,
        throughput: chart,
      }));
      cached = { at: Date.now(), data };
      ledgerViews.set(id, cached);
      data.catch(() => ledgerViews.delete(id));
      for (const [key, value] of ledgerViews) if (Date.now() - value.at > LEDGER_CACHE_MS) ledgerViews.delete(key);
    }
    return c.json(await cached.data);
  });

  app.get(`${base}/runs/:id`, async (c) => c.html(runPage(pageContext(c), await runData(c))));
  app.get(`${base}/api/runs/:id`, async (c) => {
    const { live, links, starts, ...rest } = await runData(c);
    return c.json({ ...rest, starts: starts.map((row) => ({ ...row, live: live.get(row), uiUrl: links.get(row) })) });
  });

  const failuresData = async (c: Context) => {
    const run = await runOf(c);
    const groups = await reading(pool, (tx) => failureGroups(tx, run.id, {}, schema));
    const finished = run.starts.every((row) => row.finishedAt !== null);
    return { id: run.id, batch: run.batch, runKey: run.runKey, groups, finished };
  };
  app.get(`${base}/runs/:id/failures`, async (c) => c.html(failuresPage(pageContext(c), await failuresData(c))));
  app.get(`${base}/api/runs/:id/failures`, async (c) => c.json(await failuresData(c)));

  const targetData = async (c: Context) => {
    const key = c.req.query('key') ?? '';
    if (!key) throw new UserError('key: give the target key to look up');
    const batch = c.req.query('batch') || undefined;
    const entries = await targetTimeline(pool, key, batch, 500, schema);
    return { key, batch, entries };
  };
  app.get(`${base}/targets`, async (c) => {
    const data = await targetData(c);
    const value = searchValue(data.key).replace(/\\/g, '\\\\').replace(/"/g, '\\"');
    return c.html(
      targetPage(pageContext(c), {
        ...data,
        jobLink: (e) => tju.link(jobWorkflowId(e.batch, e.runKey, data.key)),
        allLink: tju.listLink(`TjuTargetKey="${value}"`),
      }),
    );
  });
  app.get(`${base}/api/targets`, async (c) => c.json(await targetData(c)));

  app.get(`${base}/schedules`, async (c) =>
    c.html(schedulesPage(pageContext(c), await schedulesOf(client, options.batches, options.taskQueue))),
  );
  app.get(`${base}/api/schedules`, async (c) => c.json(await schedulesOf(client, options.batches, options.taskQueue)));

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
    if (typeof form.error === 'string' && form.error) filter.error = form.error;
    if (typeof form.target === 'string' && form.target) filter.target = form.target;
    return filter;
  };

  for (const action of RUN_ACTIONS) {
    const handler = async (c: Context) => {
      // The page to go back to comes from the path alone: a refused request looks nothing up.
      const back = `${base}/runs/${encodeURIComponent(c.req.param('id') ?? '')}${action === 'retry' || action === 'clear' ? '/failures' : ''}`;
      return mutate(c, back, async (actor, form) => {
        const run = await runOf(c);
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

  app.get(`${base}/assets/:name`, (c) => {
    const asset = assets[c.req.param('name')];
    if (!asset) return c.notFound();
    return c.body(asset.body(), 200, { 'Content-Type': asset.type, 'Cache-Control': 'max-age=3600' });
  });
  return app;
}
