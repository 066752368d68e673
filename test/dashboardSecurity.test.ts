// The dashboard beyond localhost, in a real browser: reads need a session once a token is set, sessions end when
// idle, old or signed out, a form carries its own session's CSRF token, sign-in is rate-limited, a user header is
// believed only from a trusted proxy, foreign Host names and oversized bodies are refused, and every page says
// what it may run (CSP) and that it must not be cached.
import http from 'node:http';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { listFailures } from '../src/db/ledger';
import type { DashboardOptions } from '../src/dashboard';
import { TjuClient } from '../src/temporal/client';
import { dashboardBatch, DASHBOARD_TABLES } from './fixtures/dashboard';
import { launchBrowser } from './helpers/browser';
import { signIn as signInAs, dashboardsOver } from './helpers/dashboard';
import { startHarness, type Harness } from './helpers/harness';
import { tju as cli } from './helpers/cli';

const TOKEN = 'a-dashboard-token-for-security-tests';
const batch = dashboardBatch(0);
const date = '2026-11-06';
/** A target whose key is markup and quotes, and which fails: shown on the failures and timeline pages. */
const HOSTILE = `<img src=x onerror="window.__owned=1">'"&`;

let h: Harness;
let browser: Browser;
let tju: TjuClient;
let runId: string;
const dashboards = dashboardsOver(
  () => h,
  () => tju,
  batch,
  TOKEN,
);
const serve = (extra: Partial<DashboardOptions> = {}) => dashboards.serve(extra);

beforeAll(async () => {
  h = await startHarness([batch]);
  tju = new TjuClient({ client: h.client, batches: [batch], taskQueue: h.taskQueue, db: h.pool });
  await h.pool.query(DASHBOARD_TABLES);
  for (const [key, kind] of [
    ['a', 'ok'],
    ['b', 'ok'],
    ['d1', 'declined'],
    ['d2', 'declined'],
    [HOSTILE, 'declined'],
  ]) {
    await h.pool.query('INSERT INTO dashboard_targets (key, kind) VALUES ($1, $2)', [key, kind]);
  }
  expect(await (await tju.trigger(batch, { date })).result()).toMatchObject({ succeeded: 2, failed: 3 });
  runId = (await h.pool.query(`SELECT id::text FROM tju.runs WHERE batch = $1 AND run_key = $2`, [batch.name, date])).rows[0].id;
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  dashboards.close();
  await h?.close();
});

async function signIn(url: string, name: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signInAs(page, url, name, TOKEN);
  return { context, page };
}

/** A raw request, so a test can send any Host header and any body. */
function request(url: string, { method = 'GET', host, body }: { method?: string; host?: string; body?: string } = {}) {
  const target = new URL(url);
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method,
        headers: { ...(host ? { host } : {}), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      },
      (res) => {
        res.resume();
        resolve({ status: res.statusCode!, headers: res.headers });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const events = async (kind: string) =>
  (await h.pool.query(`SELECT actor, address, detail FROM tju.operator_events WHERE kind = $1 ORDER BY id`, [kind])).rows;

it('refuses every read without a session or the token, and serves them with either', async () => {
  const url = await serve();
  const anonymous = await browser.newPage();
  await anonymous.goto(`${url}/runs/${runId}/failures`);
  expect(new URL(anonymous.url()).pathname).toBe('/login'); // sent to sign in, shown no failure
  expect(await anonymous.content()).not.toContain('declined');
  expect((await anonymous.request.get(`${url}/api/runs`)).status()).toBe(401);
  expect((await anonymous.request.get(`${url}/api/runs/${runId}/failures`)).status()).toBe(401);
  expect((await anonymous.request.get(`${url}/api/runs`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status()).toBe(200);
  await anonymous.close();

  const { context, page } = await signIn(url, 'alice');
  await page.goto(`${url}/runs/${runId}/failures`);
  await page.waitForSelector('section.group');
  const response = await page.request.get(`${url}/runs/${runId}/failures`);
  expect(response.headers()['cache-control']).toBe('no-store');
  expect(response.headers()['content-security-policy']).toContain("script-src 'self'");
  expect((await page.request.get(`${url}/assets/dashboard.js`)).headers()['cache-control']).toBe('max-age=3600');
  await context.close();
});

it('ends a session when it is idle, too old, or signed out, for every dashboard sharing the database', async () => {
  const url = await serve();
  const other = await serve(); // a second process behind the same load balancer
  const { context, page } = await signIn(url, 'bob');
  const cookie = (await context.cookies()).find((c) => c.name === 'tju_dashboard')!;
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', secure: false });
  const reads = async (base: string) =>
    (await fetch(`${base}/api/runs`, { headers: { cookie: `tju_dashboard=${cookie.value}` }, redirect: 'manual' })).status;
  expect([await reads(url), await reads(other)]).toEqual([200, 200]);
  // The table holds only a hash of the ID: reading it signs nobody in.
  const { rows } = await h.pool.query(`SELECT encode(id_hash, 'hex') AS hash FROM tju.dashboard_sessions WHERE name = 'bob'`);
  expect(rows[0].hash).not.toContain(Buffer.from(cookie.value).toString('hex'));

  await h.pool.query(`UPDATE tju.dashboard_sessions SET last_seen_at = now() - interval '61 minutes' WHERE name = 'bob'`);
  expect(await reads(url)).toBe(401);
  await h.pool.query(`UPDATE tju.dashboard_sessions SET last_seen_at = now() WHERE name = 'bob'`);
  expect(await reads(url)).toBe(200);
  await h.pool.query(`UPDATE tju.dashboard_sessions SET created_at = now() - interval '13 hours' WHERE name = 'bob'`);
  expect(await reads(url)).toBe(401);
  await h.pool.query(`UPDATE tju.dashboard_sessions SET created_at = now() WHERE name = 'bob'`);
  expect(await reads(other)).toBe(200);

  await page.goto(`${url}/`);
  await page.click('header button:has-text("sign out")');
  await page.waitForSelector('text=Dashboard token');
  expect([await reads(url), await reads(other)]).toEqual([401, 401]); // the old cookie, replayed: revoked
  expect((await events('sign-out')).map((e) => e.actor)).toEqual(['dashboard:bob@127.0.0.1']);
  await context.close();
});

it("refuses a post carrying another session's CSRF token, and records the refusal", async () => {
  const url = await serve();
  const alice = await signIn(url, 'alice');
  const mallory = await signIn(url, 'mallory');
  await mallory.page.goto(`${url}/runs/${runId}/failures`);
  const malloryToken = await mallory.page.locator('input[name=_csrf]').first().inputValue();
  await alice.page.goto(`${url}/runs/${runId}/failures`);
  const aliceToken = await alice.page.locator('input[name=_csrf]').first().inputValue();
  expect(aliceToken).not.toBe(malloryToken);

  const post = (csrf: string) =>
    alice.page.evaluate(
      async ({ to, csrf }) =>
        (await fetch(to, { method: 'POST', body: new URLSearchParams({ _csrf: csrf, target: 'd1' }), redirect: 'manual' })).status,
      { to: `${url}/runs/${runId}/clear`, csrf },
    );
  const open = async () => (await listFailures(h.pool, { batch: batch.name, runKey: date })).map((f) => f.targetKey).sort();
  expect(await post(malloryToken)).toBe(403);
  expect(await open()).toEqual(['d1', 'd2', HOSTILE].sort());
  const refused = await events('refused');
  expect(refused.at(-1)).toMatchObject({ actor: 'dashboard:alice@127.0.0.1', detail: { path: `/runs/${runId}/clear` } });
  expect(refused.at(-1)!.detail.why).toContain('CSRF');

  // Her own token, from her own page: the one target's failure is forgotten, and nothing else.
  expect([0, 303]).toContain(await post(aliceToken));
  expect(await open()).toEqual(['d2', HOSTILE].sort());
  await alice.context.close();
  await mallory.context.close();
});

it('limits failed sign-ins per address, and records each', async () => {
  const url = await serve();
  const before = (await events('sign-in-failed')).length;
  const page = await browser.newPage();
  for (let i = 0; i < 5; i++) {
    const res = await page.request.post(`${url}/login`, {
      headers: { origin: url },
      form: { name: 'eve', token: `guess-${i}-xxxxxxxxxxxxxxxx` },
    });
    expect(res.status()).toBe(401);
  }
  // The sixth, even with the right token, waits out the window.
  const limited = await page.request.post(`${url}/login`, { headers: { origin: url }, form: { name: 'eve', token: TOKEN } });
  expect(limited.status()).toBe(429);
  expect(limited.headers()['retry-after']).toBe('600');
  expect(await limited.text()).toContain('too many failed sign-ins from 127.0.0.1');
  expect((await events('sign-in-failed')).slice(before)).toHaveLength(5);
  expect(await events('sign-in')).not.toContainEqual(expect.objectContaining({ actor: 'dashboard:eve' }));
  await page.close();
  // Others' windows are their own: clear this address's record so later sign-ins here go on.
  await h.pool.query(`DELETE FROM tju.operator_events WHERE kind = 'sign-in-failed'`);
});

it('believes a user header only from a trusted proxy', async () => {
  // Each clear is recorded with who did it: the header's name only when the proxy that sent it is trusted.
  const clearAs = async (url: string, target: string) => {
    const { context, page } = await signIn(url, 'carol');
    await page.goto(`${url}/runs/${runId}/failures`);
    const csrf = await page.locator('input[name=_csrf]').first().inputValue();
    await page.evaluate(
      async ({ to, csrf, target }) =>
        fetch(to, { method: 'POST', headers: { 'X-Forwarded-User': 'the-ceo' }, body: new URLSearchParams({ _csrf: csrf, target }) }),
      { to: `${url}/runs/${runId}/clear`, csrf, target },
    );
    await context.close();
    const { rows } = await h.pool.query(`SELECT actor FROM tju.run_actions WHERE action = 'clear' ORDER BY id DESC LIMIT 1`);
    return rows[0].actor as string;
  };
  await h.pool.query(
    `INSERT INTO tju.failures (run_id, target_key, unit, error, error_type, attempts, non_retryable, target)
    VALUES ($1, 'x1', 'test.dashboard-unit', 'e', 'Error', 1, true, '{"key":"x1"}'),
           ($1, 'x2', 'test.dashboard-unit', 'e', 'Error', 1, true, '{"key":"x2"}')`,
    [runId],
  );
  const untrusted = await serve({ userHeader: 'X-Forwarded-User', trustedProxies: ['10.9.8.7'] });
  expect(await clearAs(untrusted, 'x1')).toBe('dashboard:carol@127.0.0.1');
  const trusted = await serve({ userHeader: 'X-Forwarded-User', trustedProxies: ['127.0.0.1'] });
  expect(await clearAs(trusted, 'x2')).toBe('dashboard:the-ceo@127.0.0.1');
});

it('marks the session cookie Secure behind a trusted proxy that says the browser came over TLS', async () => {
  const login = async (url: string) => {
    const res = await fetch(`${url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': 'https', origin: url },
      body: new URLSearchParams({ name: 'dave', token: TOKEN }),
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    return res.headers.get('set-cookie')!;
  };
  expect(await login(await serve({ trustedProxies: ['127.0.0.1'] }))).toMatch(/; Secure/);
  expect(await login(await serve())).not.toMatch(/; Secure/); // the header from anyone else is not believed
});

it('refuses a foreign Host (DNS rebinding) unless allowed, and an oversized body before reading it', async () => {
  const url = await serve();
  expect((await request(`${url}/login`, { host: 'evil.example' })).status).toBe(400);
  expect((await request(`${url}/login`, { host: `localhost:${new URL(url).port}` })).status).toBe(200);
  const allowed = await serve({ allowedHosts: ['tju.example.com'] });
  expect((await request(`${allowed}/login`, { host: 'tju.example.com' })).status).toBe(200);
  expect((await request(`${allowed}/login`, { host: 'evil.example' })).status).toBe(400);

  const failuresBefore = await listFailures(h.pool, { batch: batch.name, runKey: date });
  const huge = `_csrf=x&target=d2&pad=${'x'.repeat(100 * 1024)}`;
  expect((await request(`${url}/runs/${runId}/clear`, { method: 'POST', body: huge })).status).toBe(413);
  expect((await request(`${url}/login`, { method: 'POST', body: huge })).status).toBe(413);
  expect(await listFailures(h.pool, { batch: batch.name, runKey: date })).toEqual(failuresBefore);
});

it('will not serve beyond loopback without a token, nor believe a user header from anyone', async () => {
  const exposed = await cli(['dashboard', '--host', '0.0.0.0'], h.env);
  expect(exposed).toMatchObject({ code: 2, stdout: '' });
  expect(exposed.stderr).toMatch(/^tju: --host 0\.0\.0\.0 serves every run.*set TJU_DASHBOARD_TOKEN first\n$/);
  const header = await cli(['dashboard', '--user-header', 'X-Forwarded-User'], { ...h.env, TJU_DASHBOARD_TOKEN: TOKEN });
  expect(header).toMatchObject({
    code: 2,
    stdout: '',
    stderr: 'tju: --user-header is believed only from the proxy that sets it: add --trusted-proxy <its address>\n',
  });
});

it('shows a hostile key that failed as text on the failures and timeline pages', async () => {
  const url = await serve();
  const { context, page } = await signIn(url, 'erin');
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(`${url}/runs/${runId}/failures`);
  await page.waitForSelector('section.group');
  expect(await page.locator('section.group td a', { hasText: HOSTILE }).count()).toBe(1);
  await page.goto(`${url}/targets?key=${encodeURIComponent(HOSTILE)}&batch=${encodeURIComponent(batch.name)}`);
  expect(await page.locator('h1 code').textContent()).toBe(HOSTILE);
  expect(await page.locator('#timeline tr.failure').count()).toBe(1);
  expect(await page.evaluate('window.__owned')).toBeUndefined();
  expect(await page.locator('img[src=x]').count()).toBe(0);
  expect(dialogs).toEqual([]);
  await context.close();
});

it('gives up on a query held past its statement timeout, answering at once instead of hanging', async () => {
  const url = await serve({ statementTimeoutMs: 300 });
  // An exclusive lock on the runs table: every read of the runs page waits behind it.
  const holder = await h.pool.connect();
  await holder.query('BEGIN');
  await holder.query('LOCK TABLE tju.runs IN ACCESS EXCLUSIVE MODE');
  try {
    const res = await fetch(`${url}/api/runs`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: string }).error).toMatch(/did not answer within the dashboard's statement timeout/);
  } finally {
    await holder.query('ROLLBACK');
    holder.release();
  }
  expect((await fetch(`${url}/api/runs`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
});
