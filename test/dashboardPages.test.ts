// Pages that tell the truth about a run key, in a real browser: after a run and a re-run of its key the page leads
// with what is done and what still fails (not the last start's counts); a failure group pages through every
// target; a target's open failure is retried or cleared from its timeline; the workers panel names who polls;
// hook calls that gave up are shown.
import type { Browser, Page } from 'playwright-core';
import { listFailures } from '../src/db/ledger';
import { TjuClient } from '../src/temporal/client';
import { dashboardBatch, DASHBOARD_TABLES } from './fixtures/dashboard';
import { launchBrowser, see } from './helpers/browser';
import { signIn, dashboardsOver } from './helpers/dashboard';
import { startHarness, type Harness } from './helpers/harness';
import { until } from './helpers/wait';

const TOKEN = 'a-dashboard-token-for-page-tests';
const batch = dashboardBatch(0);
const date = '2026-11-07';
const DECLINED = ['d1', 'd2', 'd3', 'd4', 'd5'];

let h: Harness;
let browser: Browser;
let page: Page;
let url: string;
let runId: string;
let tju: TjuClient;
const confirms: string[] = [];
const dashboards = dashboardsOver(
  () => h,
  () => tju,
  batch,
  TOKEN,
);

beforeAll(async () => {
  h = await startHarness([batch]);
  tju = new TjuClient({ client: h.client, batches: [batch], taskQueue: h.taskQueue, db: h.pool });
  await h.pool.query(DASHBOARD_TABLES);
  for (const key of ['a', 'b', 'c', 'e', 'f', 'g'])
    await h.pool.query(`INSERT INTO dashboard_targets (key, kind) VALUES ($1, 'ok')`, [key]);
  for (const key of DECLINED) await h.pool.query(`INSERT INTO dashboard_targets (key, kind) VALUES ($1, 'declined')`, [key]);
  // The run, then a re-run of the same key: the re-run selects only what is not done, and fails it again.
  expect(await (await tju.trigger(batch, { date })).result()).toMatchObject({ total: 11, succeeded: 6, failed: 5 });
  expect(await (await tju.trigger(batch, { date })).result()).toMatchObject({ total: 5, succeeded: 0, failed: 5 });
  runId = (await h.pool.query(`SELECT id::text FROM tju.runs WHERE batch = $1 AND run_key = $2`, [batch.name, date])).rows[0].id;
  await h.pool.query(
    `INSERT INTO tju.hook_events (run_id, workflow_id, dedupe_key, batch, hook, event, state, attempts, max_attempts, last_error)
     VALUES ($1, 'w', 'gave-up-1', $2, 'onComplete', '{}', 'gave-up', 3, 3, 'Error: the report service is down')`,
    [runId, batch.name],
  );

  url = await dashboards.serve();
  browser = await launchBrowser();
  page = await browser.newPage();
  page.on('dialog', (d) => {
    if (d.type() !== 'confirm') throw new Error(`unexpected ${d.type()}: ${d.message()}`);
    confirms.push(d.message());
    void d.accept();
  });
  await signIn(page, url, 'olga', TOKEN);
});
afterAll(async () => {
  await browser?.close();
  dashboards.close();
  await h?.close();
});

it("leads with the run key's state from the ledger and open failures, the starts below with their own counts", async () => {
  await page.goto(`${url}/runs/${runId}`);
  await see.texts(page.locator('h1 .state'), ['failing']);
  await see.texts(page.locator('#truth-line'), ['6 done, 5 failing, over 2 start(s)']);
  expect(await page.locator('#truth-bar [role=progressbar]').getAttribute('aria-valuenow')).toBe('11');
  // The latest start's own counts (0 succeeded, 5 failed) are in the starts table, not the headline.
  const starts = page.locator('#starts tbody tr');
  await see.count(starts, 2);
  await see.contains(starts.nth(0), 'total 5, succeeded 0, failed 5');
  await see.contains(starts.nth(1), 'total 11, succeeded 6, failed 5');
  expect(await page.locator('#counts').count()).toBe(0); // no live start
  await see.contains(page.locator('#hooks tr.gave-up'), 'Error: the report service is down');
});

it('pages through every target of a failure group', async () => {
  await page.goto(`${url}/runs/${runId}/failures`);
  const group = page.locator('section.group');
  await see.count(group, 1);
  await see.count(group.locator('tbody tr'), 3); // the samples
  await group.locator('a.all').click();
  await see.count(page.locator('#group-targets tbody tr'), 5);
  // Two at a time: three pages, every key once, in key order.
  await page.goto(`${page.url()}&limit=2`);
  const seen: string[] = [];
  for (;;) {
    seen.push(...(await page.locator('#group-targets tbody td:first-child').allTextContents()).map((t) => t.trim()));
    if ((await page.locator('#next').count()) === 0) break;
    await page.click('#next');
  }
  expect(seen).toEqual(DECLINED);
});

it("retries and clears one target's open failure from its timeline", async () => {
  await page.goto(`${url}/targets?key=d1&batch=${encodeURIComponent(batch.name)}`);
  const open = page.locator('#timeline tr.failure', { hasText: '(open)' });
  await see.count(open, 1);
  await open.locator('button:has-text("Clear")').click();
  await page.waitForSelector('text=forgot 1 failure record(s)');
  expect(confirms.at(-1)).toBe(`Forget the failure of d1 in ${date}? The next run of the key selects it again.`);
  expect((await listFailures(h.pool, { batch: batch.name, runKey: date })).map((f) => f.targetKey).sort()).toEqual(DECLINED.slice(1));

  await h.pool.query(`UPDATE dashboard_targets SET kind = 'ok' WHERE key = 'd2'`);
  await page.goto(`${url}/targets?key=d2&batch=${encodeURIComponent(batch.name)}`);
  await page.locator('#timeline tr.failure', { hasText: '(open)' }).locator('button:has-text("Retry this target")').click();
  await page.waitForSelector('text=retrying 1 failed target(s)');
  await new TjuClient({ client: h.client, batches: [batch], taskQueue: h.taskQueue })
    .handleFor(batch.name, date, `${batch.name}/${date}/~retry`)
    .result();
  expect((await listFailures(h.pool, { batch: batch.name, runKey: date })).map((f) => f.targetKey).sort()).toEqual(DECLINED.slice(2));
  const { rows } = await h.pool.query(`SELECT count(*)::int AS n FROM dashboard_effects WHERE key = 'd2'`);
  expect(rows[0].n).toBe(1);
  const { rows: actions } = await h.pool.query(`SELECT action, detail->>'target' AS target FROM tju.run_actions ORDER BY id`);
  expect(actions).toEqual([
    { action: 'clear', target: 'd1' },
    { action: 'retry', target: 'd2' },
  ]);
});

it('names the workers polling each task queue', async () => {
  await page.goto(`${url}/workers`);
  const row = page.locator(`#workers tr[data-queue="${h.taskQueue}"]`);
  await see.count(row, 1);
  const cells = row.locator('td');
  await see.contains(cells.nth(2), `${process.pid}@`); // the harness's worker, in this process
  await see.contains(cells.nth(3), `${process.pid}@`);
});

it('polls a live page while its run moves, backs off while it stands still, and refreshes when shown again', async () => {
  // Every effect waits behind this lock: the run's first two targets stay in flight, and nothing moves.
  const holder = await h.pool.connect();
  await holder.query('BEGIN');
  await holder.query('LOCK TABLE dashboard_effects IN EXCLUSIVE MODE');
  const run = await tju.trigger(batch, { date: '2026-11-08' });
  try {
    const polls: number[] = [];
    page.on('request', (r) => {
      if (r.url() === `${url}/` && r.resourceType() === 'fetch') polls.push(Date.now());
    });
    await page.goto(`${url}/`);
    await see.count(page.locator('#runs tr[data-state=running]'), 1);
    await until(
      async () => polls.length,
      (n) => n >= 4,
      'four polls of a standing run',
      60_000,
    );
    const gaps = polls.slice(1).map((at, i) => at - polls[i]);
    expect(gaps[2]).toBeGreaterThan(gaps[0] * 1.5); // 2 s, then 4 s, then 8 s: nothing moved

    // Hidden, the page stops its timer; shown again, it asks at once instead of waiting out the backoff.
    const setHidden = (hidden: boolean) =>
      page.evaluate((value) => {
        // Runs in the page (not type-checked against the DOM here): as the browser does when a tab is hidden.
        const doc = (globalThis as unknown as { document: object & { dispatchEvent(event: Event): boolean } }).document;
        for (const [name, v] of [
          ['hidden', value],
          ['visibilityState', value ? 'hidden' : 'visible'],
        ] as const) {
          Object.defineProperty(doc, name, { value: v, configurable: true });
        }
        doc.dispatchEvent(new Event('visibilitychange'));
      }, hidden);
    await setHidden(true);
    const seen = polls.length;
    await setHidden(false);
    await until(
      async () => polls.length,
      (n) => n > seen,
      'a poll as soon as the page is shown',
      5_000,
    );
  } finally {
    await holder.query('ROLLBACK');
    holder.release();
  }
  await run.result();
});
