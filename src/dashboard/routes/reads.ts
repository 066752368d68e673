import type { Context, Hono } from 'hono';
import { failureGroups } from '../../db/failureGroups';
import { reading } from '../../db/transaction';
import { listRunActions } from '../../db/runActions';
import { UserError } from '../../errors';
import { jobWorkflowId, searchValue, visibilityLiteral } from '../../contracts/ids';
import type { Dashboard } from '../context';
import {
  batchesWithRuns,
  expectedTotals as expectedTotalsIn,
  listRuns,
  runById,
  runKeyTruth,
  stepCounts,
  targetTimeline,
  throughput,
  type RunFilter,
  type RunRow,
} from '../data';
import { liveProgress, partitionsOf, schedulesOf } from '../live';
import { hookProblems } from '../../hooks/outbox';
import { openBreakers } from '../../db/breakers';
import { stepsOf } from '../../batch';
import { runPage } from '../views/run';
import { failuresPage, groupPage } from '../views/failures';
import { failurePage } from '../../db/ledger';
import { RUN_STATES, runsPage } from '../views/runs';
import { schedulesPage, targetPage, workersPage } from '../views/target';
import { workersOf } from '../workers';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const NUMBER = /^\d{1,18}$/;
/** How long one reading of a run's ledger serves the run page's steps and chart. */
const LEDGER_CACHE_MS = 3000;
/** Targets per page of one failure group (`?limit=` up to the most). */
const GROUP_PAGE = 100;
const MAX_GROUP_PAGE = 1000;

/** The run number in the path, checked before anything is looked up. */
function runIdOf(c: Context): string {
  const id = c.req.param('id') ?? '';
  if (!NUMBER.test(id)) throw new UserError(`no run ${id}`);
  return id;
}

/** A run by the `:id` of the path; a 400 when there is none. */
export async function runOf({ options }: Dashboard, c: Context) {
  const id = runIdOf(c);
  const run = await runById(options.pool, id, options.schema);
  if (!run) throw new UserError(`no run ${id}`);
  return { id, ...run };
}

/** The params a run was started with, as its first start recorded them. */
export const recordedParams = (run: { starts: RunRow[] }): Record<string, unknown> =>
  run.starts.find((row) => row.kind === 'run')?.params ?? run.starts[0]?.params ?? {};

/** The pages and their JSON: runs, a run, its ledger, its failures, a target's timeline, the schedules. */
export function registerReadRoutes(app: Hono, dashboard: Dashboard): void {
  registerRunsRoutes(app, dashboard);
  registerRunRoutes(app, dashboard);
  registerFailureRoutes(app, dashboard);
  registerTargetRoutes(app, dashboard);
}

/** The runs list, filtered and keyset-paged, with live counts for the running ones. */
function registerRunsRoutes(app: Hono, dashboard: Dashboard): void {
  const { options, base, pageContext } = dashboard;
  const { pool, tju, schema } = options;
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

  const runsData = async (c: Context) => {
    const filter = runFilter(c);
    const limit = options.pageSize ?? 50;
    const [{ rows, more }, batches] = await Promise.all([listRuns(pool, filter, limit, schema), batchesWithRuns(pool, schema)]);
    const running = rows.filter((row) => row.state === 'running' || row.state === 'paused');
    const [live, expected] = await Promise.all([
      liveProgress(tju, running),
      expectedTotalsIn(pool, [...new Set(running.map((r) => r.batch))], schema),
    ]);
    return { rows, live, expected, batches, filter, next: more ? rows[rows.length - 1].cursor : undefined };
  };

  app.get(`${base}/`, async (c) => c.html(runsPage(pageContext(c), await runsData(c))));
  app.get(`${base}/api/runs`, async (c) => {
    const page = await runsData(c);
    return c.json({ runs: page.rows.map((row) => ({ ...row, live: page.live.get(row) })), next: page.next ?? null });
  });
}

/** One run key: its starts with live counts, partitions and actions; its ledger's views; its failure groups. */
function registerRunRoutes(app: Hono, dashboard: Dashboard): void {
  const { options, base, pageContext } = dashboard;
  const { pool, tju, client, schema } = options;

  const runData = async (c: Context) => {
    const run = await runOf(dashboard, c);
    const latest = run.starts[0];
    const running = run.starts.filter((row) => row.state === 'running' || row.state === 'paused');
    const units = options.batches.find((b) => b.name === run.batch);
    const [live, actions, groups, partitions, expected, truth, hooks, breakers] = await Promise.all([
      liveProgress(tju, running),
      listRunActions(pool, run.id, 50, schema),
      reading(pool, (tx) => failureGroups(tx, run.id, { samples: 0, limit: 1000 }, schema)),
      latest && latest.kind === 'run' ? partitionsOf(client, tju, latest).catch(() => []) : Promise.resolve([]),
      expectedTotalsIn(pool, [run.batch], schema).then((m) => m.get(run.batch)),
      reading(pool, (tx) => runKeyTruth(tx, run.id, schema)),
      hookProblems(pool, run.batch, run.runKey, schema),
      units
        ? openBreakers(
            pool,
            stepsOf(units).map((step) => step.unit.name),
            schema,
          )
        : Promise.resolve([]),
    ]);
    const links = new Map<RunRow, string | undefined>(run.starts.map((row) => [row, tju.link(row.workflowId, row.executionId)]));
    const openFailures = { count: groups.reduce((n, g) => n + g.count, 0), groups: groups.length };
    return { ...run, live, actions, partitions, expected, links, openFailures, truth, hooks, breakers };
  };

  // What the run's ledger says (counts per step, throughput over time) reads every row of the run: the page
  // loads it after itself, and a few seconds' answer serves every operator polling meanwhile.
  const ledgerViews = new Map<string, { at: number; data: Promise<unknown> }>();
  app.get(`${base}/api/runs/:id/ledger`, async (c) => {
    const id = runIdOf(c);
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
}

/** The params a run was started with, as the CLI's flags take them. */
const paramsOf = (run: { starts: RunRow[] }): Record<string, string> =>
  Object.fromEntries(Object.entries(recordedParams(run)).map(([key, value]) => [key, String(value)]));

/** A run's open failures by cause, and every target of one cause a page at a time. */
function registerFailureRoutes(app: Hono, dashboard: Dashboard): void {
  const { options, base, pageContext } = dashboard;
  const { pool, schema } = options;

  const failuresData = async (c: Context) => {
    const run = await runOf(dashboard, c);
    const groups = await reading(pool, (tx) => failureGroups(tx, run.id, {}, schema));
    const finished = run.starts.every((row) => row.finishedAt !== null);
    return { id: run.id, batch: run.batch, runKey: run.runKey, params: paramsOf(run), groups, finished };
  };
  app.get(`${base}/runs/:id/failures`, async (c) => c.html(failuresPage(pageContext(c), await failuresData(c))));
  app.get(`${base}/api/runs/:id/failures`, async (c) => c.json(await failuresData(c)));

  const groupData = async (c: Context) => {
    const run = await runOf(dashboard, c);
    const group = { error: c.req.query('group') ?? '', unit: c.req.query('unit') ?? '' };
    if (!group.error || !group.unit) throw new UserError('name a failure group: ?group=…&unit=…');
    const after = c.req.query('after') ?? null;
    const asked = Number(c.req.query('limit') ?? GROUP_PAGE);
    const limit = Number.isInteger(asked) && asked > 0 ? Math.min(asked, MAX_GROUP_PAGE) : GROUP_PAGE;
    const rows = await failurePage(pool, run, { filter: { group }, after, limit: limit + 1, schema });
    const next = rows.length > limit ? rows[limit - 1].targetKey : undefined;
    return { id: run.id, batch: run.batch, runKey: run.runKey, group, limit, failures: rows.slice(0, limit), after, next };
  };
  app.get(`${base}/runs/:id/failures/group`, async (c) => c.html(groupPage(pageContext(c), await groupData(c))));
  app.get(`${base}/api/runs/:id/failures/group`, async (c) => c.json(await groupData(c)));
}

/** A target's timeline across runs, and the schedules. */
function registerTargetRoutes(app: Hono, dashboard: Dashboard): void {
  const { options, base, pageContext } = dashboard;
  const { pool, tju, client, schema } = options;

  const targetData = async (c: Context) => {
    const key = c.req.query('key') ?? '';
    if (!key) throw new UserError('key: give the target key to look up');
    const batch = c.req.query('batch') || undefined;
    const entries = await targetTimeline(pool, key, batch, 500, schema);
    return { key, batch, entries };
  };
  app.get(`${base}/targets`, async (c) => {
    const data = await targetData(c);
    return c.html(
      targetPage(pageContext(c), {
        ...data,
        jobLink: (e) => tju.link(jobWorkflowId(e.batch, e.runKey, data.key)),
        allLink: tju.listLink(`TjuTargetKey = ${visibilityLiteral(searchValue(data.key))}`),
      }),
    );
  });
  app.get(`${base}/api/targets`, async (c) => c.json(await targetData(c)));

  app.get(`${base}/schedules`, async (c) =>
    c.html(schedulesPage(pageContext(c), await schedulesOf(client, options.batches, options.taskQueue))),
  );
  app.get(`${base}/api/schedules`, async (c) => c.json(await schedulesOf(client, options.batches, options.taskQueue)));

  app.get(`${base}/workers`, async (c) =>
    c.html(workersPage(pageContext(c), await workersOf(client, options.batches, options.taskQueue), Date.now())),
  );
  app.get(`${base}/api/workers`, async (c) => c.json(await workersOf(client, options.batches, options.taskQueue)));
}
