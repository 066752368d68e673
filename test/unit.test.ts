// A Unit alone: plain PostgreSQL, no Temporal — how app code and a "retry" button call it.
import type { Pool } from 'pg';
import { issueInvoice } from '../examples/billing/batches/issue-invoices/unit';
import { defineUnit } from '../src/unit';
import { clearFailures, countFailures, failedTargets, listFailures, recordFailure } from '../src/db/ledger';
import { createPool } from '../src/db/pool';
import { NonRetryableError } from '../src/errors';
import { createTestDatabase, dropTestDatabase } from './helpers/databases';
import { insertNoFeeSubscriptions, insertSubscriptions } from './helpers/billing';

let pool: Pool;
let database: { name: string; url: string };

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool(database.url, 12);
});
afterAll(async () => {
  await pool.end();
  await dropTestDatabase(database.name);
});

const invoicesOf = async (subscriptionId: string) =>
  (await pool.query('SELECT amount, payment_method FROM invoices WHERE subscription_id = $1', [subscriptionId])).rows;

describe('issueInvoice unit', () => {
  it('issues the invoice once; a second call changes nothing', async () => {
    const [id] = await insertSubscriptions(pool, 1);
    const input = { subscriptionId: id, billingDate: '2026-11-01', paymentMethod: 'card' };

    expect(await issueInvoice.execute(pool, input)).toEqual({ outcome: 'succeeded' });
    expect(await issueInvoice.execute(pool, input)).toEqual({ outcome: 'skipped' });
    expect(await invoicesOf(id)).toEqual([{ amount: '11.00', payment_method: 'card' }]);
  });

  it('leaves one invoice when ten calls for one target run at once', async () => {
    const [id] = await insertSubscriptions(pool, 1);
    const input = { subscriptionId: id, billingDate: '2026-11-02', paymentMethod: 'card' };

    const results = await Promise.all(Array.from({ length: 10 }, () => issueInvoice.execute(pool, input)));

    expect(results.filter((r) => r.outcome === 'succeeded')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'skipped')).toHaveLength(9);
    expect(await invoicesOf(id)).toHaveLength(1);
  });

  it('refuses a subscription without a fee with a non-retryable error and writes nothing', async () => {
    const [id] = await insertNoFeeSubscriptions(pool);
    const input = { subscriptionId: id, billingDate: '2026-11-01', paymentMethod: 'card' };

    await expect(issueInvoice.execute(pool, input)).rejects.toThrow(NonRetryableError);
    expect(await invoicesOf(id)).toHaveLength(0);
  });
});

describe('unit transactions and the ledger', () => {
  const appendAudit = defineUnit<{ note: string; failAfterWrite?: boolean }>({
    name: 'test.append-audit',
    async run(tx, { note, failAfterWrite }) {
      await tx.query(`INSERT INTO subscriptions (customer, status, monthly_fee) VALUES ($1, 'inactive', 1)`, [note]);
      await tx.query(`UPDATE subscriptions SET monthly_fee = 2 WHERE customer = $1`, [note]);
      if (failAfterWrite) throw new Error('boom after writing');
    },
  });
  const countNotes = async (note: string) =>
    (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM subscriptions WHERE customer = $1', [note])).rows[0].n;

  it('rolls back everything the unit wrote when it throws', async () => {
    await expect(appendAudit.execute(pool, { note: 'rolled-back', failAfterWrite: true })).rejects.toThrow('boom after writing');
    expect(await countNotes('rolled-back')).toBe(0);
    const ledger = await pool.query(`SELECT 1 FROM tju.ledger WHERE unit = 'test.append-audit'`);
    expect(ledger.rowCount).toBe(0);
  });

  it('makes a unit with no guard of its own idempotent under one key, even ten at once', async () => {
    const key = { batch: 'test.audit', runKey: 'r1', targetKey: 't1' };
    const results = await Promise.all(
      Array.from({ length: 10 }, () => appendAudit.execute(pool, { note: 'keyed' }, { idempotencyKey: key })),
    );
    expect(results.filter((r) => r.outcome === 'succeeded')).toHaveLength(1);
    expect(await countNotes('keyed')).toBe(1);

    // Another key is another piece of work.
    await appendAudit.execute(pool, { note: 'keyed' }, { idempotencyKey: { ...key, targetKey: 't2' } });
    expect(await countNotes('keyed')).toBe(2);
  });

  it('resolves an earlier failure record of the target when its unit later succeeds', async () => {
    const key = { batch: 'test.audit', runKey: 'r2', targetKey: 't1' };
    const failure = {
      ...key,
      unit: 'test.append-audit',
      error: 'earlier',
      errorType: 'Error',
      attempts: 3,
      nonRetryable: false,
      target: { key: 't1' },
    };
    await recordFailure(pool, failure);
    await recordFailure(pool, { ...failure, targetKey: 't2', target: { key: 't2' } });
    expect((await listFailures(pool, { batch: 'test.audit', runKey: 'r2' })).map((f) => f.targetKey)).toEqual(['t1', 't2']);

    await appendAudit.execute(pool, { note: 'recovered' }, { idempotencyKey: key });
    expect((await listFailures(pool, { batch: 'test.audit', runKey: 'r2' })).map((f) => f.targetKey)).toEqual(['t2']);
    expect(await failedTargets(pool, { batch: 'test.audit', runKey: 'r2', after: null, limit: 10 })).toEqual([{ key: 't2' }]);
  });

  it('takes exactly one failure group by its step and masked error, never a group that merely contains it', async () => {
    const run = { batch: 'test.audit', runKey: 'groups' };
    const fail = (targetKey: string, unit: string, error: string) =>
      recordFailure(pool, {
        ...run,
        targetKey,
        unit,
        error,
        errorType: 'Error',
        attempts: 1,
        nonRetryable: false,
        target: { key: targetKey },
      });
    await fail('a', 'test.charge', 'card declined');
    await fail('b', 'test.charge', 'card declined by issuer'); // contains the first group's text
    await fail('c', 'test.refund', 'card declined'); // the same error in another step
    await fail("d'; DROP TABLE tju.failures; --", 'test.charge', "card declined'%_\\");
    const group = (error: string, unit?: string) => ({ filter: { group: { error, ...(unit ? { unit } : {}) } } });

    expect(await countFailures(pool, run, group('Error: card declined', 'test.charge'))).toEqual({
      total: 1,
      groups: [{ unit: 'test.charge', group: 'Error: card declined', count: 1 }],
    });
    expect((await countFailures(pool, run, group('Error: card declined'))).groups.map((g) => g.unit)).toEqual([
      'test.charge',
      'test.refund',
    ]);
    expect((await countFailures(pool, run, group("Error: card declined'%_\\"))).total).toBe(1);
    expect((await countFailures(pool, run, group('Error: card declined%'))).total).toBe(0);
    // Free text takes what contains it, in any case: a person's choice, shown before it acts.
    expect((await countFailures(pool, run, { filter: { error: 'CARD DECLINED' } })).total).toBe(4);

    expect(await clearFailures(pool, run, group('Error: card declined', 'test.charge'))).toBe(1);
    expect((await listFailures(pool, run)).map((f) => `${f.unit} ${f.targetKey}`).sort()).toEqual([
      'test.charge b',
      "test.charge d'; DROP TABLE tju.failures; --",
      'test.refund c',
    ]);
  });

  it('records a unit that found its work done as skipped, and does not run it again under its key', async () => {
    const key = { batch: 'test.audit', runKey: 'r3', targetKey: 't1' };
    const guarded = defineUnit<{ note: string }>({ name: 'test.guarded', run: async () => 'skipped' });
    expect(await guarded.execute(pool, { note: 'x' }, { idempotencyKey: key })).toEqual({ outcome: 'skipped' });
    const { rows } = await pool.query(
      `SELECT l.skipped FROM tju.ledger l JOIN tju.runs r ON r.id = l.run_id WHERE r.run_key = 'r3' AND l.unit = 'test.guarded'`,
    );
    expect(rows).toEqual([{ skipped: true }]);

    let ran = 0;
    const counting = defineUnit<{ note: string }>({ name: 'test.counting', run: async () => void ran++ });
    await counting.execute(pool, { note: 'x' }, { idempotencyKey: key });
    await counting.execute(pool, { note: 'x' }, { idempotencyKey: key });
    expect(ran).toBe(1);
  });

  it("keys the ledger on the run's number: one runs row per batch and run key", async () => {
    const key = { batch: 'test.audit', runKey: 'r4', targetKey: 't1' };
    await Promise.all(
      ['t1', 't2', 't3'].map((targetKey) => appendAudit.execute(pool, { note: 'numbered' }, { idempotencyKey: { ...key, targetKey } })),
    );
    const { rows } = await pool.query(
      `SELECT r.id, count(l.*)::int AS n FROM tju.runs r LEFT JOIN tju.ledger l ON l.run_id = r.id WHERE r.batch = 'test.audit' AND r.run_key = 'r4' GROUP BY r.id`,
    );
    expect(rows).toEqual([{ id: expect.any(String), n: 3 }]);
  });
});
