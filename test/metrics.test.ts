// `tju worker --metrics-port`: one Prometheus endpoint with the SDK's worker metrics and tju's own, scraped
// during and after a run that mixes succeeding, retried and failing targets.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { mixedBilling } from './fixtures/batches';
import { applyThingsSchema, hookedThings, insertThings } from './fixtures/things';
import { insertMixedSubscriptions } from './helpers/billing';
import { tju } from './helpers/cli';
import { startHarness, type Harness } from './helpers/harness';
import { startWorkerProcess } from './helpers/workerProcess';

let h: Harness;
beforeAll(async () => {
  h = await startHarness([mixedBilling, hookedThings], { worker: false });
});
afterAll(() => h.close());

const PORT = 19464;

/** The sum of a metric's samples whose labels include `labels`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? ([\d.eE+-]+|NaN)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) sum += Number(match[3]);
  }
  return sum;
}

const scrape = async () => (await fetch(`http://127.0.0.1:${PORT}/metrics`)).text();

it("serves the SDK's worker metrics and tju's units, jobs and runs, counted as they happen", async () => {
  const date = '2026-12-01';
  const subscriptions = await insertMixedSubscriptions(h.pool, 120);
  const worker = await startWorkerProcess(h, { TJU_METRICS_PORT: String(PORT) });
  try {
    const batch = { batch: 'test.mixed-billing' };
    const run = await h.tju.trigger('test.mixed-billing', { date }, { window: 20 });
    // During the run: some units done, some running, the run open.
    let during = '';
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
      during = await scrape();
      if (sample(during, 'tju_units_total', { ...batch, outcome: 'succeeded' }) >= 10) break;
    }
    expect(sample(during, 'tju_units_total', { ...batch, outcome: 'succeeded' })).toBeLessThan(subscriptions.billable.length);
    expect(sample(during, 'tju_runs_started_total', batch) - sample(during, 'tju_runs_finished_total', batch)).toBe(1);
    expect(sample(during, 'tju_jobs_started_total', batch) - sample(during, 'tju_jobs_finished_total', batch)).toBeGreaterThan(0);

    const summary = await run.result();
    const after = await scrape();
    // Every unit attempt, by outcome: retried attempts count as failed attempts, then succeed.
    const customers = (await h.pool.query<{ customer: string }>('SELECT customer FROM subscriptions')).rows.map((r) => r.customer);
    const kind = (prefix: string) => customers.filter((c) => c.startsWith(prefix)).length;
    expect(sample(after, 'tju_units_total', { ...batch, unit: 'test.mixed-issue-invoice', outcome: 'succeeded' })).toBe(summary.succeeded);
    expect(sample(after, 'tju_units_total', { ...batch, outcome: 'failed' })).toBe(kind('broken-') + 3 * kind('doomed-') + kind('flaky-'));
    expect(sample(after, 'tju_unit_duration_seconds_count', batch)).toBe(sample(after, 'tju_units_total', batch));
    // Labelled as Prometheus and the SDK's own metrics are: snake_case, the queue and type of what counted.
    for (const metric of ['tju_units_total', 'tju_jobs_started_total', 'tju_runs_finished_total']) {
      const line = after.split('\n').find((l) => l.startsWith(`${metric}{`))!;
      expect(line).toMatch(/task_queue="[^"]+"/);
      expect(line).not.toMatch(/taskQueue=|workflowType=|activityType=/);
    }
    expect(after.split('\n').find((l) => l.startsWith('tju_jobs_started_total{'))).toContain('workflow_type="triggerWorkflow"');
    expect(sample(after, 'tju_units_in_flight', batch)).toBe(0);
    expect(sample(after, 'tju_jobs_started_total', batch)).toBe(120);
    expect(sample(after, 'tju_jobs_finished_total', { ...batch, outcome: 'completed' })).toBe(summary.succeeded);
    expect(sample(after, 'tju_jobs_finished_total', { ...batch, outcome: 'failed' })).toBe(summary.failed);
    expect(sample(after, 'tju_runs_finished_total', { ...batch, state: 'completed' })).toBe(1);
    // The SDK's own, from the same endpoint.
    expect(sample(after, 'temporal_workflow_completed_total') + sample(after, 'temporal_workflow_failed_total')).toBeGreaterThanOrEqual(
      121,
    );
    expect(after).toMatch(/^temporal_worker_task_slots_available\{/m);
    // The ready Grafana dashboard asks only for metrics a worker serves (hooks: none were called in this run).
    const dashboard = fs.readFileSync(path.join(__dirname, '..', 'docs', 'grafana', 'tju-dashboard.json'), 'utf8');
    const asked = new Set([...dashboard.matchAll(/\b((?:tju|temporal)_[a-z_]+?)(?:_bucket)?(?=[{),\s])/g)].map((m) => m[1]));
    expect([...asked].filter((name) => name !== 'tju_hooks_total' && !new RegExp(`^${name}(_bucket)?\\{`, 'm').test(after))).toEqual([]);
    expect(asked.size).toBeGreaterThanOrEqual(9);
  } finally {
    await worker.kill('SIGTERM');
  }
});

it('counts hook calls apart from the runs: delivered, retried and given up', async () => {
  await applyThingsSchema(h.pool);
  await insertThings(h.pool, [{ key: 'a' }]);
  const worker = await startWorkerProcess(h, { TJU_METRICS_PORT: String(PORT) });
  try {
    await (await h.tju.trigger('test.hooked-things', { date: '2026-12-02' })).result();
    const hook = { batch: 'test.hooked-things', hook: 'onComplete' };
    let text = '';
    for (let i = 0; i < 100 && sample(text, 'tju_hooks_total', { ...hook, outcome: 'gave_up' }) === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      text = await scrape();
    }
    // Its batch allows 3 calls: two retried, then given up.
    expect(sample(text, 'tju_hooks_total', { ...hook, outcome: 'retried' })).toBe(2);
    expect(sample(text, 'tju_hooks_total', { ...hook, outcome: 'gave_up' })).toBe(1);
  } finally {
    await worker.kill('SIGTERM');
  }
});

it('refuses a bad metrics port in one line', async () => {
  const flag = await tju(['worker', '--metrics-port', '99999'], h.env);
  expect(flag.code).not.toBe(0);
  expect(flag.stderr).toBe("tju: option '--metrics-port <port>' argument '99999' is invalid. expected a port number from 1 to 65535\n");
  const env = await tju(['worker'], { ...h.env, TJU_METRICS_PORT: 'http' });
  expect(env).toMatchObject({ code: 2, stderr: expect.stringMatching(/^tju: TJU_METRICS_PORT: .+\n$/) });
  // A port something else holds: one line, not the runtime's stack trace.
  const holder = http.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '0.0.0.0', resolve));
  try {
    const port = (holder.address() as AddressInfo).port;
    const taken = await tju(['worker', '--metrics-port', String(port)], h.env);
    expect(taken).toMatchObject({
      code: 2,
      stderr: `tju: cannot serve metrics on port ${port}: the address is in use (--metrics-port, TJU_METRICS_PORT)\n`,
    });
  } finally {
    holder.close();
  }
});
