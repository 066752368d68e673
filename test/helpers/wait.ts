// Waiting for an event, never for time: each helper polls for a condition and fails with what it last saw.
import type { Pool } from 'pg';
import type { RunHandle } from '../../src/temporal/runHandle';
import type { RunProgress } from '../../src/contracts/types';

/** Polls `read` until `done` holds for what it returned; fails after `timeoutMs` naming what it last saw. */
export async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not seen within ${timeoutMs} ms; last ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The run's progress once `done` holds for it (a query that fails meanwhile, e.g. no worker yet, is asked again). */
export const untilProgress = async (run: RunHandle, done: (progress: RunProgress) => boolean): Promise<RunProgress> =>
  (await until(
    () => run.progress().catch(() => undefined),
    (progress) => progress !== undefined && done(progress),
    `progress of ${run.workflowId}`,
  ))!;

/** Once a query's first row's `ok` column is true. */
export const untilSql = async (pool: Pool, sql: string): Promise<void> => {
  await until(async () => (await pool.query<{ ok: boolean }>(sql)).rows[0]?.ok === true, Boolean, sql);
};
