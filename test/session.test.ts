// A bulk lane's connection (src/db/session.ts): each unit's COMMIT travels with the next unit's BEGIN and
// ledger claim. Real PostgreSQL, no Temporal; every effect checked by SQL (`notes` has no unique key, so a
// second effect would show as a second row).
import type { Pool, PoolClient } from 'pg';
import { createPool } from '../src/db/pool';
import { cachedRunId, runIdOf } from '../src/db/ledger';
import { UnitSession, type NextClaim } from '../src/db/session';
import { UnitStop } from '../src/db/unitStop';
import { defineUnit } from '../src/unit';
import { Slots } from '../src/util/slots';
import { createTestDatabase, dropTestDatabase } from './helpers/databases';

let pool: Pool;
let database: { name: string; url: string };
/** Statements each client sent, counted as round trips (a simple query of several statements is one). */
let roundTrips = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool(database.url, 6);
  pool.on('connect', (client: PoolClient) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      roundTrips++;
      return query(...args);
    };
  });
  await pool.query('CREATE TABLE notes (key text NOT NULL)');
});
afterAll(async () => {
  await pool.end();
  await dropTestDatabase(database.name);
});
beforeEach(async () => {
  // A unit stopped by the last test may still be rolling back on the server: wait until no other session of this
  // database is in a transaction, then truncate in the units' own lock order (ledger, then notes).
  await until(
    async () =>
      (
        await pool.query(
          `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL`,
        )
      ).rowCount === 0,
  );
  await pool.query('TRUNCATE tju.ledger, notes');
  roundTrips = 0;
});

const batch = 'test.session';
const runKey = '2026-12-02';
const ref = (targetKey: string) => ({ batch, runKey, targetKey });
const claimOf = (targetKey: string): NextClaim => ({ batch, runKey, targetKey, unit: note.name });

/** Two statements, like a unit's lock and write; fails for a key in `failing`. */
const failing = new Set<string>();
const note = defineUnit<{ key: string }>({
  name: 'test.note',
  async run(tx, { key }) {
    await tx.query('SELECT 1');
    await tx.query('INSERT INTO notes (key) VALUES ($1)', [key]);
    if (failing.has(key)) throw new Error(`${key} fails`);
  },
});

const notes = async () => (await pool.query<{ key: string }>('SELECT key FROM notes ORDER BY key')).rows.map((r) => r.key);
const ledgerKeys = async () =>
  (await pool.query<{ target_key: string }>('SELECT target_key FROM tju.ledger ORDER BY target_key')).rows.map((r) => r.target_key);

/** Runs `keys` one after another on one session, each naming the next as its successor, as a bulk lane does. */
async function runInLane(session: UnitSession, keys: string[]) {
  const outcomes: string[] = [];
  for (const [i, key] of keys.entries()) {
    const next = keys[i + 1];
    const result = await session.run(note, { key }, { idempotencyKey: ref(key) }, () => (next === undefined ? undefined : claimOf(next)));
    outcomes.push(result.outcome);
  }
  return outcomes;
}

it('sends a unit’s COMMIT with the next claim: 4 round trips a unit of two statements, not 5, the same rows', async () => {
  await cachedRunId(pool, { batch, runKey }); // the run's number is looked up once per pool, not per unit
  roundTrips = 0;
  const keys = Array.from({ length: 10 }, (_, i) => `t${i}`);
  const session = new UnitSession(pool);

  expect(await runInLane(session, keys)).toEqual(Array(10).fill('succeeded'));
  // BEGIN+claim once; then per unit two statements and COMMIT(+BEGIN+next claim).
  expect(roundTrips).toBe(1 + 10 * 3);
  expect(await notes()).toEqual(keys);
  expect(await ledgerKeys()).toEqual(keys);

  roundTrips = 0;
  for (const key of ['u0', 'u1']) await note.execute(pool, { key }, { idempotencyKey: ref(key) });
  expect(roundTrips).toBe(2 * 4); // one at a time: BEGIN+claim, two statements, COMMIT
});

it('keeps hostile keys exact through the claims it writes as literals', async () => {
  const keys = ["o'brien", 'back\\slash', "'); DROP TABLE notes; --", '日本語', '🙂', 'x'.repeat(1500), '$1', "E'\\x41'"];
  const session = new UnitSession(pool);

  expect(await runInLane(session, keys)).toEqual(Array(keys.length).fill('succeeded'));
  expect(await notes()).toEqual([...keys].sort());
  expect(await ledgerKeys()).toEqual([...keys].sort());
});

it('skips a unit whose next claim was committed before (a resumed chunk) without running it, and goes on', async () => {
  await note.execute(pool, { key: 'b' }, { idempotencyKey: ref('b') });
  const session = new UnitSession(pool);

  expect(await runInLane(session, ['a', 'b', 'c'])).toEqual(['succeeded', 'skipped', 'succeeded']);
  expect(await notes()).toEqual(['a', 'b', 'c']);
});

it('rolls back a claim it opened for a unit the lane did not run, when closed or when another unit comes', async () => {
  const session = new UnitSession(pool);
  await session.run(note, { key: 'a' }, { idempotencyKey: ref('a') }, () => claimOf('never'));
  expect(pool.totalCount - pool.idleCount).toBe(1); // the claim's transaction is open on the lane's connection
  await session.run(note, { key: 'b' }, { idempotencyKey: ref('b') }, () => claimOf('also-never'));
  await session.close();

  expect(pool.totalCount - pool.idleCount).toBe(0);
  expect(await ledgerKeys()).toEqual(['a', 'b']);
  // The claims it rolled back leave the targets free for the next run of them.
  expect(await runInLane(new UnitSession(pool), ['never', 'also-never'])).toEqual(['succeeded', 'succeeded']);
});

it('rolls a failing unit back alone: the unit before it committed, its next claim is not opened', async () => {
  failing.add('b');
  try {
    const session = new UnitSession(pool);
    await expect(runInLane(session, ['a', 'b', 'c'])).rejects.toThrow('b fails');
    expect(pool.totalCount - pool.idleCount).toBe(0);
    expect(await notes()).toEqual(['a']);
    expect(await ledgerKeys()).toEqual(['a']);
  } finally {
    failing.delete('b');
  }
});

it('reports a unit as done when its COMMIT went through but the next claim in the same round trip failed', async () => {
  // Another execution holds `b`'s claim uncommitted; the lane's next claim waits for it past lock_timeout.
  const other = await pool.connect();
  const runId = await runIdOf(pool, batch, runKey);
  await other.query(`BEGIN; INSERT INTO tju.ledger (run_id, target_key, unit) VALUES (${runId}, 'b', 'test.note')`);
  const impatient = createPool(`${database.url}?options=${encodeURIComponent('-c lock_timeout=200')}`, 2);
  try {
    const session = new UnitSession(impatient);
    const first = await session.run(note, { key: 'a' }, { idempotencyKey: ref('a') }, () => claimOf('b'));
    expect(first).toEqual({ outcome: 'succeeded' });
    expect(impatient.totalCount - impatient.idleCount).toBe(0); // the connection whose round trip failed is let go

    await other.query('ROLLBACK');
    expect(await session.run(note, { key: 'b' }, { idempotencyKey: ref('b') })).toEqual({ outcome: 'succeeded' });
    expect(await notes()).toEqual(['a', 'b']);
  } finally {
    other.release();
    await impatient.end();
  }
});

it('survives its connection being terminated while a next claim is open: the unit runs once, on a new one', async () => {
  const session = new UnitSession(pool);
  await session.run(note, { key: 'a' }, { idempotencyKey: ref('a') }, () => claimOf('b'));
  await pool.query(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'`,
  );

  await expect(session.run(note, { key: 'b' }, { idempotencyKey: ref('b') })).rejects.toThrow();
  // A job runs it again through the lost connection (activities/units.ts); the claim died with it.
  expect(await session.run(note, { key: 'b' }, { idempotencyKey: ref('b') })).toEqual({ outcome: 'succeeded' });
  expect(await notes()).toEqual(['a', 'b']);
});

it('gives up its slot between units when another unit waits for one, instead of opening the next claim', async () => {
  const slots = new Slots(1);
  const session = new UnitSession(pool, undefined, slots);
  await session.hold();
  let waiting: Promise<() => void> | undefined;
  const queueing = defineUnit<{ key: string }>({
    name: 'test.note',
    async run(tx, input) {
      waiting = slots.acquire(); // another unit of the worker wants a slot while this one runs
      return note.run(tx, input, undefined as never);
    },
  });

  await session.run(queueing, { key: 'a' }, { idempotencyKey: ref('a') }, () => claimOf('b'));
  const release = await waiting!; // resolves only once the session let its slot go
  release();
  expect(pool.totalCount - pool.idleCount).toBe(0);
  expect(await ledgerKeys()).toEqual(['a']);
});

describe('stopping a unit', () => {
  /** Writes its note, then waits on `ctx.signal`, or (not reading it) until `finish` is called, and returns. */
  let finish = () => {};
  const waiting = (readsSignal: boolean, seen: AbortSignal[]) =>
    defineUnit<{ key: string }>({
      name: 'test.note',
      async run(tx, { key }, ctx) {
        await tx.query('INSERT INTO notes (key) VALUES ($1)', [key]);
        if (readsSignal) seen.push(ctx.signal);
        await new Promise<void>((resolve) => (readsSignal ? ctx.signal.addEventListener('abort', () => resolve()) : (finish = resolve)));
      },
    });

  /** How a caller stops a unit: its own AbortSignal, or a lane's UnitStop. */
  const bySignal = () => {
    const controller = new AbortController();
    return { options: { signal: controller.signal }, stop: (reason: Error) => controller.abort(reason) };
  };
  const byUnitStop = () => {
    const unitStop = new UnitStop();
    return { options: { stop: unitStop }, stop: (reason: Error) => unitStop.abort(reason) };
  };

  it.each([
    ['a caller’s AbortSignal', true, bySignal],
    ['a lane’s UnitStop, read by the unit', true, byUnitStop],
    ['a lane’s UnitStop, never read by the unit', false, byUnitStop],
  ])('through %s: rolls back what it wrote, throws the reason, and aborts what the unit saw', async (_, readsSignal, stopping) => {
    const seen: AbortSignal[] = [];
    const { options, stop } = stopping();
    const running = new UnitSession(pool).run(waiting(readsSignal, seen), { key: 'a' }, { idempotencyKey: ref('a'), ...options });
    await until(
      async () =>
        (await pool.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'`))
          .rowCount === 1,
    );

    stop(new Error('the unit did not finish within its timeout'));
    finish(); // a unit that ignores its signal returns in its own time: its COMMIT must not go through
    await expect(running).rejects.toThrow('the unit did not finish within its timeout');
    expect(seen.map((s) => s.aborted)).toEqual(readsSignal ? [true] : []);
    expect(await notes()).toEqual([]);
    expect(await ledgerKeys()).toEqual([]);
    expect(pool.totalCount - pool.idleCount).toBe(0);
  });

  it('does not start a unit stopped before it runs, and a unit that reads its signal only after the stop sees it aborted', async () => {
    const stopped = new UnitStop();
    stopped.abort(new Error('cancelled'));
    await expect(new UnitSession(pool).run(note, { key: 'a' }, { idempotencyKey: ref('a'), stop: stopped })).rejects.toThrow('cancelled');
    expect(stopped.signal.aborted).toBe(true);
    expect(stopped.signal.reason).toEqual(new Error('cancelled'));
    expect(await notes()).toEqual([]);
  });
});

async function until(condition: () => Promise<boolean>) {
  for (let i = 0; i < 200 && !(await condition()); i++) await new Promise((resolve) => setTimeout(resolve, 25));
}
