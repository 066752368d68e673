// The dashboard in a real browser: a run with succeeding, slow and failing targets, watched, paused and
// resumed, its failures grouped and one group retried; a target's timeline; hostile input; read-only mode.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { listFailures } from '../src/db/ledger';
import type { DashboardOptions } from '../src/dashboard';
import { TjuClient } from '../src/temporal/client';
import { TjuSchedules } from '../src/temporal/schedules';
import { dashboardBatch, DASHBOARD_TABLES } from './fixtures/dashboard';
import { launchBrowser, see } from './helpers/browser';
import { dashboardsOver } from './helpers/dashboard';
import { until } from './helpers/wait';
import { startHarness, type Harness } from './helpers/harness';

const TOKEN = 'a-dashboard-token-for-tests';
const SHOTS = path.join(__dirname, 'output', 'dashboard');
const batch = dashboardBatch(300);
const date = '2026-11-05';
const HOSTILE = `<script>window.__owned=1</script>`;
const QUOTED = `o'brien"; DROP TABLE tju.runs; --`;

let h: Harness;
let browser: Browser;
let tju: TjuClient;
const dashboards = dashboardsOver(
  () => h,
  () => tju,
  batch,
);
const serve = (extra: Partial<DashboardOptions> = {}) => dashboards.serve(extra);

beforeAll(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  h = await startHarness([batch]);
  tju = new TjuClient({ client: h.client, batches: [batch], taskQueue: h.taskQueue, db: h.pool, uiUrl: 'http://127.0.0.1:8233' });
  await h.pool.query(DASHBOARD_TABLES);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  dashboards.close();
  await h?.close();
});

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
const finishedOf = async (page: Page) => Number(await page.locator('#runs [role=progressbar]').first().getAttribute('aria-valuenow'));

it('shows a run live, pauses and resumes it, groups its failures, retries one group, and keeps a timeline', async () => {
  const keys: Array<[string, string]> = [];
  for (let i = 0; i < 30; i++) keys.push([`c${String(i).padStart(3, '0')}`, 'ok']);
  for (let i = 0; i < 3; i++) keys.push([`declined-${i}`, 'declined']);
  for (let i = 0; i < 2; i++) keys.push([`timeout-${i}`, 'timeout']);
  keys.push([HOSTILE, 'ok'], [QUOTED, 'ok']);
  for (const [key, kind] of keys) await h.pool.query('INSERT INTO dashboard_targets (key, kind) VALUES ($1, $2)', [key, kind]);
  await new TjuSchedules(h.client, [batch], h.taskQueue).apply();

  const url = await serve({ token: TOKEN });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const dialogs: string[] = [];
  const confirms: string[] = [];
  page.on('dialog', (d) => {
    // A destructive button's confirm is answered yes; any other dialog (an alert from injected script) is a failure.
    if (d.type() === 'confirm') {
      confirms.push(d.message());
      return void d.accept();
    }
    dialogs.push(d.message());
    void d.dismiss();
  });

  // Sign in: the name is what the run history records.
  await page.goto(`${url}/login`);
  await page.fill('input[name=name]', 'alice');
  await page.fill('input[name=token]', TOKEN);
  await page.click('main button:has-text("Sign in")');
  await page.waitForURL(`${url}/`);

  const run = await tju.trigger(batch, { date });
  await page.goto(`${url}/`);
  // The runs page polls: the bar moves without a reload.
  // The bar's number, read from the page as the poll updates it (not evaluated in it: its CSP forbids eval).
  const moved = (than: number) =>
    until(
      () => finishedOf(page),
      (n) => n > than,
      'the runs page moving',
      30_000,
    );

  await moved(0);
  const first = await finishedOf(page);
  await moved(first);
  await see.count(page.locator('#runs tr[data-state=running]'), 1);
  await shot(page, 'runs');

  // Pause from the run page: dispatching stops; what is in flight (the window, 2) finishes.
  await page.click('#runs tbody a');
  await page.click('#controls button:has-text("Pause")');
  await page.waitForSelector('text=paused test.dashboard', { timeout: 15_000 });
  await page.waitForSelector('#controls button:has-text("Resume")', { timeout: 15_000 });
  // The jobs in flight drain; then the run dispatches nothing, and its effects are what it counted.
  let drained = await run.progress();
  while (!drained.paused || drained.inFlight > 0) {
    await new Promise((resolve) => setTimeout(resolve, 100)); // a poll, not a wait for time to pass
    drained = await run.progress();
  }
  const { rows: during } = await h.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM dashboard_effects');
  expect(during[0].n).toBe(drained.succeeded);
  expect(drained.total).toBeLessThan(37);
  await shot(page, 'run-paused');

  await page.click('#controls button:has-text("Resume")');
  await page.waitForSelector('text=resumed', { timeout: 15_000 });
  expect(await run.result()).toMatchObject({ total: 37, succeeded: 32, failed: 5 });
  await page.reload();
  await page.waitForSelector('#chart canvas', { timeout: 10_000 });
  await see.texts(page.locator('#steps tbody td').first(), ['test.dashboard-unit']);
  await see.contains(page.locator('#actions'), 'dashboard:alice@127.0.0.1');
  await shot(page, 'run');

  // Two causes, each masked to one group; retry the declined one after the cards were fixed.
  await page.click('#failures-summary a');
  const groups = page.locator('section.group');
  await see.count(groups, 2);
  const declined = `NonRetryableError: card of '?' declined (code ?)`;
  const timeout = 'Error: gateway timeout after ? ms';
  await see.texts(page.locator(`section.group h2`), [declined, timeout]);
  await see.contains(page.locator(`section.group[data-group="${declined}"]`), '3 target(s)');
  await shot(page, 'failures');
  await h.pool.query(`UPDATE dashboard_targets SET kind = 'ok' WHERE kind = 'declined'`);
  await page.locator(`section.group[data-group="${declined}"] button:has-text("Retry this group")`).click();
  await page.waitForSelector('text=retrying 3 failed target(s)');
  expect(confirms).toEqual(['Retry the 3 target(s) of this group?']);
  await tju.handleFor(batch.name, date, `${batch.name}/${date}/~retry`).result();
  await page.reload();
  await see.count(groups, 1);
  await see.texts(page.locator('section.group h2'), [timeout]);
  const { rows: effects } = await h.pool.query(
    `SELECT key, count(*)::int AS n FROM dashboard_effects GROUP BY key HAVING key LIKE 'declined-%'`,
  );
  expect(effects.map((r) => r.n)).toEqual([1, 1, 1]);
  const { rows: actions } = await h.pool.query(`SELECT action, actor, detail FROM tju.run_actions ORDER BY id`);
  expect(actions.map((a) => a.action)).toEqual(['pause', 'resume', 'retry']);
  expect(actions[2]).toMatchObject({
    actor: 'dashboard:alice@127.0.0.1',
    detail: { group: { error: declined, unit: 'test.dashboard-unit' }, targets: 3 },
  });

  // A target's timeline: its failure (resolved since), the retry, and its ledger row.
  await page.goto(`${url}/targets?key=declined-1`);
  await see.count(page.locator('#timeline tbody tr'), 3);
  await see.contains(page.locator('#timeline tr.retry'), `retry completed (${batch.name}/${date}/~retry)`);
  await see.contains(page.locator('#timeline tr.failure'), 'resolved since');
  await see.contains(page.locator('#timeline tr.ledger'), 'succeeded');
  await shot(page, 'target');

  // Hostile input is shown as text and bound as data.
  await page.goto(`${url}/targets?key=${encodeURIComponent(HOSTILE)}`);
  await see.texts(page.locator('h1 code'), [HOSTILE]);
  await see.count(page.locator('#timeline tr.ledger'), 1);
  await page.goto(`${url}/targets?key=${encodeURIComponent(QUOTED)}`);
  await see.count(page.locator('#timeline tr.ledger'), 1);
  await page.goto(`${url}/?batch=${encodeURIComponent(`x' OR '1'='1`)}`);
  await see.count(page.locator('text=No runs recorded that match'), 1);
  expect((await page.goto(`${url}/runs/1;DROP TABLE x`))!.status()).toBe(400);
  expect(dialogs).toEqual([]);
  expect(await page.evaluate('window.__owned')).toBeUndefined();

  // A post from another site is refused before anything happens, even with the session cookie.
  const forged = await page.request.post(`${url}/runs/1/clear`, {
    headers: { Origin: 'http://evil.example', 'Content-Type': 'application/x-www-form-urlencoded' },
    data: `_csrf=x&group=${encodeURIComponent(timeout)}&unit=test.dashboard-unit`,
  });
  expect(forged.status()).toBe(403);

  await page.goto(`${url}/schedules`);
  await see.contains(page.locator('#schedules tr[data-batch="test.dashboard"]'), 'active');
  await page.click('#schedules button:has-text("Pause")');
  await page.waitForSelector('text=paused the schedule of test.dashboard');
  await see.contains(page.locator('#schedules tr[data-batch="test.dashboard"]'), 'paused from the dashboard by dashboard:alice');
  const { rows: scheduleEvents } = await h.pool.query(`SELECT kind, actor, batch FROM tju.operator_events WHERE kind LIKE 'schedule-%'`);
  expect(scheduleEvents).toEqual([{ kind: 'schedule-pause', actor: 'dashboard:alice@127.0.0.1', batch: 'test.dashboard' }]);
  await shot(page, 'schedules');

  expect(await listFailures(h.pool, { batch: batch.name, runKey: date })).toHaveLength(2);
  await page.close();
});

it('is read-only without a token: every button disabled, every post refused, nothing recorded', async () => {
  const url = await serve();
  const page = await browser.newPage();
  const { rows: actionsBefore } = await h.pool.query(`SELECT count(*)::int AS n FROM tju.run_actions`);
  await page.goto(`${url}/runs/1/failures`);
  await see.count(page.locator('.notice:has-text("Read-only")'), 1);
  const buttons = page.locator('main form[method=post] button');
  expect(await buttons.count()).toBeGreaterThan(0);
  expect(await buttons.evaluateAll((all) => all.every((b) => (b as unknown as { disabled: boolean }).disabled))).toBe(true);
  // Even a same-origin post with the right fields is refused.
  const refused = await page.evaluate(async (to) => {
    const res = await fetch(to, {
      method: 'POST',
      body: new URLSearchParams({ group: 'Error: gateway timeout after ? ms', unit: 'test.dashboard-unit' }),
    });
    return res.status;
  }, `${url}/runs/1/clear`);
  expect(refused).toBe(403);
  const api = await page.request.post(`${url}/api/runs/1/clear`, { headers: { Authorization: `Bearer ${TOKEN}` }, data: {} });
  expect(api.status()).toBe(403);
  const { rows: actionsAfter } = await h.pool.query(`SELECT count(*)::int AS n FROM tju.run_actions`);
  expect(actionsAfter[0].n).toBe(actionsBefore[0].n);
  expect(await listFailures(h.pool, { batch: batch.name, runKey: date })).toHaveLength(2);
  await shot(page, 'read-only');
  await page.close();
});
