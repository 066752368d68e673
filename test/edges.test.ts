// Exactly-once at its edges: every target a run selects ends with an effect, a ledger row or an open failure
// record, whatever its key; a retry, a re-run, a terminated job, a failing hook or a prune never loses a target
// or acts on one twice. Each test checks the effects by SQL: `thing_effects` has no unique key, so a second
// effect would show as a second row.
import { resolveRun } from '../src/plan';
import { jobWorkflowId } from '../src/contracts/ids';
import { BatchRegistry } from '../src/registry';
import { listFailures } from '../src/db/ledger';
import { applyThingsSchema, effectsOf, hookedThings, insertThings, keylessThings, misspelledThings, things } from './fixtures/things';
import { tju } from './helpers/cli';
import { startHarness, type Harness } from './helpers/harness';
import { startJobOfAnotherTrigger } from './helpers/jobs';
import { untilProgress, untilSql as untilSqlIn } from './helpers/wait';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

let h: Harness;
beforeAll(async () => {
  h = await startHarness([things, hookedThings, misspelledThings, keylessThings]);
  await applyThingsSchema(h.pool);
});
afterAll(() => h.close());
beforeEach(() =>
  h.pool.query('TRUNCATE things, thing_effects, tju.ledger, tju.failures, tju.run_history, tju.hook_events, tju.staged_chunks'),
);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const untilSql = (sql: string) => untilSqlIn(h.pool, sql);

/**
 * Locks the things' rows, which their unit locks first: a unit of them waits until `release` is called. How a
 * test holds a job in flight until an operator's control has reached the run, instead of hoping it is slow.
 */
async function holdRows(keys: string[]): Promise<() => Promise<void>> {
  const client = await h.pool.connect();
  await client.query('BEGIN');
  await client.query('SELECT 1 FROM things WHERE key = ANY($1) FOR UPDATE', [keys]);
  return async () => {
    await client.query('COMMIT');
    client.release();
  };
}
const long = 'x'.repeat(1500);

/** Keys that look like tju's own workflow IDs, need escaping, or are too long for one. */
const HOSTILE = ['p0', 'p1', 'p2', 'retry', '~retry', 'chunk', 'chunk/a-b', '1..5', 'a/b', 'a%2Fb', 'with space', '日本語', '🙂', long];

/** Resolves with the run's summary, or fails the test after `ms` instead of hanging. */
async function within<T>(ms: number, work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not end within ${ms} ms`)), ms)));
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

it.each(['per-target', 'per-chunk', 'bulk'] as const)(
  '%s, two partitions: hostile keys each get exactly one effect, none skipped',
  async (granularity) => {
    const keys = [...HOSTILE, ...Array.from({ length: 16 }, (_, i) => `k${String(i).padStart(2, '0')}`)];
    await insertThings(
      h.pool,
      keys.map((key) => ({ key })),
    );
    const run = await h.tju.trigger('test.things', { date: '2026-11-01' }, { partitions: 2, granularity, chunkSize: 3 });
    const summary = await within(60_000, run.result(), 'the run');

    expect(summary).toMatchObject({ total: keys.length, succeeded: keys.length, failed: 0, skipped: 0 });
    const effects = await effectsOf(h.pool, '2026-11-01');
    expect([...effects.keys()].sort()).toEqual([...keys].sort());
    expect([...effects.values()].every((n) => n === 1)).toBe(true);
  },
);

it('retries a failed target keyed "retry": the retry trigger and its job are different workflows', async () => {
  await insertThings(h.pool, [{ key: 'retry', broken: true }, { key: 'a' }]);
  const first = await within(60_000, (await h.tju.trigger('test.things', { date: '2026-11-02' })).result(), 'the run');
  expect(first).toMatchObject({ total: 2, succeeded: 1, failed: 1 });
  await h.pool.query(`UPDATE things SET broken = false WHERE key = 'retry'`);

  const retried = await within(60_000, (await h.tju.retry('test.things', { date: '2026-11-02' })).result(), 'the retry');
  expect(retried).toMatchObject({ total: 1, succeeded: 1, failed: 0, skipped: 0 });
  expect(await listFailures(h.pool, { batch: 'test.things', runKey: '2026-11-02' })).toEqual([]);
  expect(Object.fromEntries(await effectsOf(h.pool, '2026-11-02'))).toEqual({ a: 1, retry: 1 });
});

it('awaits a job that is already running under its ID and counts its result, never "skipped"', async () => {
  await insertThings(h.pool, [{ key: 'slow', sleepMs: 1500 }, { key: 'a' }, { key: 'b' }]);
  const date = '2026-11-03';
  // The job for `slow` is already running (another trigger of the run started it) when the run gets there.
  const run = resolveRun(new BatchRegistry([things]).get('test.things'), { date });
  await startJobOfAnotherTrigger(h, run, 'slow');
  const summary = await within(60_000, (await h.tju.trigger('test.things', { date })).result(), 'the run');

  expect(summary).toMatchObject({ total: 3, succeeded: 3, failed: 0, skipped: 0 });
  expect(Object.fromEntries(await effectsOf(h.pool, date))).toEqual({ a: 1, b: 1, slow: 1 });
});

it('a retry of a partitioned run runs each open failure once, counts each once, and obeys pause and cancel', async () => {
  const keys = Array.from({ length: 12 }, (_, i) => `k${String(i).padStart(2, '0')}`);
  const broken = ['k01', 'k05', 'k10'];
  await insertThings(
    h.pool,
    keys.map((key) => ({ key, broken: broken.includes(key) })),
  );
  const date = '2026-11-04';
  const first = await within(60_000, (await h.tju.trigger('test.things', { date }, { partitions: 2 })).result(), 'the run');
  expect(first).toMatchObject({ total: 12, succeeded: 9, failed: 3 });

  await h.pool.query(`UPDATE things SET broken = false WHERE key = ANY($1)`, [broken]);
  // The retried units wait for their rows, which the test holds until the pause has reached the retry.
  const release = await holdRows(broken);
  const retry = await h.tju.retry('test.things', { date }, { partitions: 2, window: 1 });
  // Pause reaches the running retry (the run itself has ended), then resume, and it finishes.
  const paused = await tju(['pause', 'test.things', '--date', date], h.env);
  expect(paused).toMatchObject({ code: 0 });
  expect(paused.stdout).toContain(`paused ${retry.workflowId}`);
  await untilProgress(retry, (p) => p.paused === true);
  await release();
  // Paused: once its job in flight has finished, it dispatches nothing, and the effects are what it counted.
  const drained = await untilProgress(retry, (p) => p.paused === true && p.inFlight === 0);
  const effectsWhilePaused = (await effectsOf(h.pool, date)).size;
  expect(effectsWhilePaused).toBe(9 + drained.succeeded);
  expect(effectsWhilePaused).toBeLessThan(12);
  expect(await tju(['resume', 'test.things', '--date', date], h.env)).toMatchObject({ code: 0 });
  const retried = await within(60_000, retry.result(), 'the retry');

  expect(retried).toMatchObject({ total: 3, succeeded: 3, failed: 0, skipped: 0 });
  const effects = await effectsOf(h.pool, date);
  expect(effects.size).toBe(12);
  expect([...effects.values()].every((n) => n === 1)).toBe(true);

  // Cancel reaches a running retry too.
  await h.pool.query(`UPDATE things SET broken = true WHERE key = 'k00'`);
  await h.pool.query(`DELETE FROM thing_effects WHERE key = 'k00'`);
  await h.pool.query(`DELETE FROM tju.ledger WHERE target_key = 'k00'`);
  const again = await within(60_000, (await h.tju.trigger('test.things', { date })).result(), 'the re-run');
  expect(again).toMatchObject({ total: 1, failed: 1 });
  await h.pool.query(`UPDATE things SET broken = false WHERE key = 'k00'`);
  const releaseK00 = await holdRows(['k00']);
  const slowRetry = await h.tju.retry('test.things', { date });
  await untilProgress(slowRetry, (p) => p.inFlight > 0);
  // The CLI waits for the run to end, which waits for its job in flight: release that once the cancel has landed.
  const cancelling = tju(['cancel', 'test.things', '--date', date, '--reason', 'enough'], h.env);
  await untilProgress(slowRetry, (p) => p.stopped !== undefined);
  await releaseK00();
  expect(await cancelling).toMatchObject({ code: 0 });
  expect((await within(60_000, slowRetry.result(), 'the cancelled retry')).stopped).toEqual({ state: 'cancelled', reason: 'enough' });
});

it('a job terminated mid-run: its target gets a failure record that tju failures lists and tju retry does', async () => {
  // `stuck` takes 3 s and then fails: the job is terminated before, and the unit's late failure rolls back.
  await insertThings(h.pool, [{ key: 'a' }, { key: 'stuck', sleepMs: 3000, broken: true }, { key: 'z' }]);
  const date = '2026-11-05';
  const run = await h.tju.trigger('test.things', { date });
  const job = h.client.workflow.getHandle(jobWorkflowId('test.things', date, 'stuck'));
  for (let i = 0; i < 100 && !(await job.describe().catch(() => undefined)); i++) await sleep(100);
  await job.terminate('an operator ended it');
  const summary = await within(60_000, run.result(), 'the run');

  expect(summary).toMatchObject({ total: 3, succeeded: 2, failed: 1, skipped: 0 });
  const failures = await listFailures(h.pool, { batch: 'test.things', runKey: date });
  expect(failures).toEqual([
    expect.objectContaining({ targetKey: 'stuck', unit: 'test.record-effect', errorType: 'JobEnded', error: 'its job was terminated' }),
  ]);
  await h.pool.query(`UPDATE things SET sleep_ms = 0, broken = false WHERE key = 'stuck'`);
  expect(await within(60_000, (await h.tju.retry('test.things', { date })).result(), 'the retry')).toMatchObject({
    total: 1,
    succeeded: 1,
  });
  expect(Object.fromEntries(await effectsOf(h.pool, date))).toEqual({ a: 1, stuck: 1, z: 1 });
});

describe('hooks', () => {
  let server: http.Server;
  let posts = 0;
  beforeAll(async () => {
    // A receiver that answers 500 to its first three posts, then 204.
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(++posts <= 3 ? 500 : 204).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    process.env.THINGS_WEBHOOK = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('a run ends when its work ends: a throwing onComplete and a failing webhook are retried apart and given up', async () => {
    await insertThings(h.pool, [{ key: 'a' }, { key: 'b', broken: true }]);
    const date = '2026-11-06';
    const summary = await within(30_000, (await h.tju.trigger('test.hooked-things', { date })).result(), 'the run');
    expect(summary).toMatchObject({ total: 2, succeeded: 1, failed: 1 });
    // The next run is not held up either.
    await within(30_000, (await h.tju.trigger('test.hooked-things', { date: '2026-11-07' })).result(), 'the next run');

    // Delivered apart: onComplete gives up after its 3 attempts; the webhook gets through on a later attempt.
    const states = async () =>
      (
        await h.pool.query<{ hook: string; run_key: string; state: string; attempts: number; last_error: string | null }>(
          `SELECT e.hook, r.run_key, e.state, e.attempts, e.last_error FROM tju.hook_events e JOIN tju.runs r ON r.id = e.run_id
          WHERE r.run_key = $1 ORDER BY e.id`,
          [date],
        )
      ).rows;
    for (let i = 0; i < 150 && (await states()).some((e) => e.state === 'pending'); i++) await sleep(100);
    const events = await states();
    expect(events.filter((e) => e.hook === 'onComplete')).toEqual([
      { hook: 'onComplete', run_key: date, state: 'gave-up', attempts: 3, last_error: 'Error: the report service is down' },
    ]);
    const failures = events.filter((e) => e.hook === 'onFailure');
    expect(failures).toHaveLength(2); // the target's, and the run's
    expect(failures.every((e) => e.state === 'delivered')).toBe(true);

    const status = await tju(['status', 'test.hooked-things', '--date', date], h.env);
    expect(status.stdout).toContain('hook onComplete gave up after 3 attempt(s): Error: the report service is down');
    const runs = await tju(['runs', 'test.hooked-things'], h.env);
    expect(runs.stdout).toContain('hook onComplete gave up after 3 attempt(s)');
  });
});

it.each([
  ['per-target', '2026-11-08', { granularity: 'per-target' as const, window: 2 }],
  ['bulk', '2026-11-09', { granularity: 'bulk' as const, chunkSize: 5, window: 1 }],
])('%s: prune never takes a paused run, whatever the cutoff; it takes the run once it has ended', async (_, date, options) => {
  await insertThings(
    h.pool,
    Array.from({ length: 30 }, (_, i) => ({ key: `k${String(i).padStart(2, '0')}`, sleepMs: 30 })),
  );
  const run = await h.tju.trigger('test.things', { date }, options);
  while ((await effectsOf(h.pool, date)).size < 6) await sleep(50);
  await run.pause();
  await untilProgress(run, (p) => p.paused === true && p.inFlight === 0);
  /** The run's rows in one of tju's tables keyed by run. */
  const rowsIn = (table: 'ledger' | 'staged_chunks') => async () =>
    (
      await h.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM tju.${table} t JOIN tju.runs r ON r.id = t.run_id WHERE r.run_key = $1`,
        [date],
      )
    ).rows[0].n;
  const ledger = rowsIn('ledger');
  const before = await ledger();
  expect(before).toBeGreaterThanOrEqual(6);
  // A bulk run's chunks not yet run are staged rows: prune must leave them to the paused run.
  const staged = rowsIn('staged_chunks');
  const stagedBefore = await staged();
  if (options.granularity === 'bulk') expect(stagedBefore).toBe(6);

  const pruned = await tju(['prune', '--older-than', '1ms', '--batch', 'test.things', '--yes'], h.env);
  expect(pruned).toMatchObject({ code: 0 });
  expect(pruned.stdout).toContain('kept 1 old run(s) that are running, paused or not known to have ended');
  expect(await ledger()).toBe(before);
  expect(await staged()).toBe(stagedBefore);

  await run.resume();
  expect(await within(60_000, run.result(), 'the run')).toMatchObject({ total: 30, succeeded: 30 });
  // Triggering the run key again changes nothing: its ledger and the query's own check both stand.
  expect(await within(60_000, (await h.tju.trigger('test.things', { date })).result(), 'the re-run')).toMatchObject({ total: 0 });
  const effects = await effectsOf(h.pool, date);
  expect(effects.size).toBe(30);
  expect([...effects.values()].every((n) => n === 1)).toBe(true);

  // Ended now, and more than the cutoff ago by the database's clock: the same prune takes it, by its end.
  await untilSql(
    `SELECT bool_and(h.finished_at < now() - interval '1 ms') AS ok
       FROM tju.run_history h JOIN tju.runs r ON r.id = h.run_id WHERE r.run_key = '${date}'`,
  );
  const ended = await tju(['prune', '--older-than', '1ms', '--batch', 'test.things', '--yes'], h.env);
  expect(ended.stdout).toMatch(/pruned test\.things: \d+ run\(s\), 30 ledger row\(s\)/);
  expect(await ledger()).toBe(0);
  expect(await staged()).toBe(0);
});

it('a target query that fails: the error shows while it is retried, then the run fails with it', async () => {
  const date = '2026-11-09';
  const run = await h.tju.trigger('test.misspelled-things', { date });
  let seen: string[] = [];
  for (let i = 0; i < 100 && seen.length === 0; i++, await sleep(200))
    seen = (await h.tju.status('test.misspelled-things', { date })).problems ?? [];
  expect(seen[0]).toMatch(/^target query failing \(attempt \d+\): relation "thingz" does not exist$/);

  const summary = await within(60_000, run.result(), 'the run');
  expect(summary).toMatchObject({
    total: 0,
    stopped: { state: 'failed', reason: 'target query failed: relation "thingz" does not exist' },
  });
  const history = await h.pool.query(
    `SELECT state, reason FROM tju.run_history h JOIN tju.runs r ON r.id = h.run_id WHERE r.batch = 'test.misspelled-things'`,
  );
  expect(history.rows).toEqual([{ state: 'failed', reason: 'target query failed: relation "thingz" does not exist' }]);

  // `--wait` says it and exits 1.
  const waited = await tju(['trigger', 'test.misspelled-things', '--date', '2026-11-10', '--wait'], h.env);
  expect(waited.code).toBe(1);
  expect(waited.stdout).toContain('stopped (failed): target query failed: relation "thingz" does not exist');
  expect(waited.stderr).toMatch(/tju: target query failing \(attempt \d+\): relation "thingz" does not exist/);
}, 120_000);

it('a target row without a key: one error naming the batch and the row; nothing dispatched', async () => {
  await insertThings(h.pool, [{ key: 'a' }]);
  const summary = await within(30_000, (await h.tju.trigger('test.keyless-things', { date: '2026-11-11' })).result(), 'the run');
  expect(summary).toMatchObject({
    total: 0,
    stopped: {
      state: 'failed',
      reason: 'target query failed: test.keyless-things: target row 1 of the page has no key (a non-empty string or a number): {"id":"a"}',
    },
  });
  expect(await effectsOf(h.pool)).toEqual(new Map());
});

it('verify proves a run complete or names the targets it lost; the batch can verify every run', async () => {
  await insertThings(h.pool, [{ key: 'a' }, { key: 'b', broken: true }, { key: 'c' }, { key: 'd' }]);
  const date = '2026-11-12';
  const summary = await within(60_000, (await h.tju.trigger('test.things', { date }, { verify: true })).result(), 'the run');
  expect(summary).toMatchObject({ total: 4, succeeded: 3, failed: 1, verified: { checked: 1, lost: 0 } });
  const ok = await tju(['verify', 'test.things', '--date', date], h.env);
  expect(ok).toMatchObject({ code: 0, stdout: `test.things ${date}: verified: 1 selected target(s), none lost\n` });

  // A target that lost its effect and its ledger row (a restore from an old backup, say) is named.
  await h.pool.query(`DELETE FROM thing_effects WHERE key = 'c'`);
  await h.pool.query(`DELETE FROM tju.ledger WHERE target_key = 'c'`);
  const lost = await tju(['verify', 'test.things', '--date', date], h.env);
  expect(lost.code).toBe(1);
  expect(lost.stdout).toContain('lost c: no ledger row for test.record-effect and no open failure');
  const json = JSON.parse((await tju(['verify', 'test.things', '--date', date, '--json'], h.env)).stdout);
  expect(json).toMatchObject({
    batch: 'test.things',
    runKey: date,
    checked: 2,
    lost: 1,
    sample: [{ key: 'c', missing: ['test.record-effect'] }],
  });
  expect(await h.tju.verify('test.things', { date })).toMatchObject({ lost: 1 });
});
