// The workflows' own logic in seconds: the real trigger, job and chunk workflows on the dev server, with
// stub activities in place of PostgreSQL (Temporal's own way to test workflows: Worker.runUntil).
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Activities } from '../activities';
import { installRuntime } from '../src/temporal/runtime';
import type { FailureRecord, FetchTargetsRequest, JobInput, RunRecordUpdate, RunSummary, Target, TriggerInput } from '../workflows/types';

/** `n` targets keyed 001…n, in key order, as a target query returns them. */
const targetsOf = (n: number): Target[] => Array.from({ length: n }, (_, i) => ({ key: String(i + 1).padStart(3, '0') }));

interface Stubs {
  /** What a unit does for a target: resolve with an outcome, or throw. */
  unit?: (target: Target, attempt: number) => Promise<'succeeded' | 'skipped'>;
}

/** Runs `fn` with a worker whose activities are stubs over `targets`; returns what the stubs saw. */
async function withStubWorker<T>(targets: Target[], stubs: Stubs, fn: (client: Client, taskQueue: string) => Promise<T>) {
  installRuntime();
  const seen = { failures: [] as FailureRecord[], history: [] as RunRecordUpdate[], unitsInFlight: 0, maxUnitsInFlight: 0, units: 0 };
  const activities: Partial<Activities> = {
    async fetchTargets({ after, upTo, limit }: FetchTargetsRequest) {
      return targets.filter((t) => (after === null || t.key > after) && (!upTo || t.key <= upTo)).slice(0, limit);
    },
    async partitionKeys({ count }: { count: number }) {
      return Array.from({ length: count - 1 }, (_, i) => targets[Math.floor(((i + 1) * targets.length) / count)].key);
    },
    async runUnit(job: JobInput) {
      seen.units++;
      seen.maxUnitsInFlight = Math.max(seen.maxUnitsInFlight, ++seen.unitsInFlight);
      try {
        const { Context } = await import('@temporalio/activity');
        return await (stubs.unit ?? (async () => 'succeeded' as const))(job.target, Context.current().info.attempt);
      } finally {
        seen.unitsInFlight--;
      }
    },
    async recordFailure(failure: FailureRecord) {
      seen.failures.push(failure);
    },
    async runFailed() {},
    async recordRun(update: RunRecordUpdate) {
      seen.history.push(update);
    },
  };
  const address = process.env.TEMPORAL_ADDRESS!;
  const taskQueue = `workflows-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  const workerConnection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection: workerConnection,
    taskQueue,
    workflowBundle: { codePath: process.env.TJU_TEST_WORKFLOW_BUNDLE! },
    activities,
  });
  const connection = await Connection.connect({ address });
  try {
    const result = await worker.runUntil(fn(new Client({ connection }), taskQueue));
    return { result, seen };
  } finally {
    await connection.close();
    await workerConnection.close();
  }
}

const input = (overrides: Partial<TriggerInput> = {}): TriggerInput => ({
  batch: 'stub.batch',
  runKey: `run-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`,
  params: {},
  window: 10,
  pageSize: 7,
  maxHistoryEvents: 5000,
  job: { retry: { maximumAttempts: 2, initialInterval: '10ms' }, unit: 'stub.unit' },
  ...overrides,
});

const runTrigger = (client: Client, taskQueue: string, args: TriggerInput) =>
  client.workflow.execute('triggerWorkflow', {
    workflowId: `${args.batch}/${args.runKey}`,
    taskQueue,
    args: [args],
  }) as Promise<RunSummary>;

const slowUnit = async () => {
  await new Promise((resolve) => setTimeout(resolve, 20));
  return 'succeeded' as const;
};

it('keeps at most the window of jobs in flight, across pages', async () => {
  const { result, seen } = await withStubWorker(targetsOf(40), { unit: slowUnit }, (client, queue) =>
    runTrigger(client, queue, input({ window: 4 })),
  );
  expect(result).toEqual({ total: 40, succeeded: 40, failed: 0, skipped: 0 });
  expect(seen.maxUnitsInFlight).toBeLessThanOrEqual(4);
  expect(seen.maxUnitsInFlight).toBeGreaterThanOrEqual(2);
});

it('continues as new past its history limit and carries counts and cursor over', async () => {
  const args = input({ maxHistoryEvents: 40, window: 3 });
  const { result, seen } = await withStubWorker(targetsOf(30), {}, async (client, queue) => {
    const summary = await runTrigger(client, queue, args);
    let executions = 0;
    for await (const _ of client.workflow.list({ query: `WorkflowId = '${args.batch}/${args.runKey}'` })) executions++;
    return { summary, executions };
  });
  expect(result.summary).toEqual({ total: 30, succeeded: 30, failed: 0, skipped: 0 });
  expect(result.executions).toBeGreaterThan(1);
  expect(seen.units).toBe(30); // each target once: the cursor was carried, not reset
  // Its history row: written at the start, with the counts so far at each continue-as-new, and at the end.
  expect(new Set(seen.history.map((h) => h.executionId)).size).toBe(1);
  expect(seen.history[0]).toMatchObject({ state: 'running', finished: false, kind: 'run', workflowId: `${args.batch}/${args.runKey}` });
  expect(seen.history.at(-1)).toMatchObject({ state: 'completed', finished: true, counts: result.summary });
  const carried = seen.history.slice(1, -1);
  expect(carried).toHaveLength(result.executions - 1);
  for (const update of carried) expect(update).toMatchObject({ state: 'running', finished: false, counts: { failed: 0 } });
});

it('adds up the summaries of its partitions', async () => {
  const unit = async (target: Target) => (Number(target.key) % 5 === 0 ? 'skipped' : 'succeeded') as 'skipped' | 'succeeded';
  const { result, seen } = await withStubWorker(targetsOf(31), { unit }, (client, queue) =>
    runTrigger(client, queue, input({ partitions: 3 })),
  );
  expect(result).toEqual({ total: 31, succeeded: 25, failed: 0, skipped: 6 });
  expect(seen.units).toBe(31);
  // One run in the history, the parent's; its partitions write none.
  expect(seen.history.map((h) => [h.state, h.finished])).toEqual([
    ['running', false],
    ['completed', true],
  ]);
});

it('per-chunk: counts each outcome and records each failure once, after its retries', async () => {
  const unit = async (target: Target, attempt: number) => {
    const n = Number(target.key);
    if (n % 7 === 0) throw new Error('always fails');
    if (n % 5 === 0 && attempt === 1) throw new Error('fails once');
    if (n % 11 === 0) return 'skipped' as const;
    return slowUnit();
  };
  const { result, seen } = await withStubWorker(targetsOf(50), { unit }, (client, queue) =>
    runTrigger(client, queue, input({ granularity: 'per-chunk', chunkSize: 12, chunkConcurrency: 4, window: 2 })),
  );
  const failing = targetsOf(50)
    .filter((t) => Number(t.key) % 7 === 0)
    .map((t) => t.key);
  expect(result).toEqual({ total: 50, succeeded: 50 - failing.length - 4, failed: failing.length, skipped: 4 });
  expect(seen.failures.map((f) => f.targetKey).sort()).toEqual(failing);
  expect(seen.failures[0]).toMatchObject({ unit: 'stub.unit', attempts: 2, errorType: 'Error', batch: 'stub.batch' });
  expect(seen.maxUnitsInFlight).toBeLessThanOrEqual(2 * 4);
});

it('per-target: a failed job records its failure and the run counts it, never failing itself', async () => {
  const unit = async (target: Target) => {
    if (target.key === '003') throw new Error('no fee');
    return 'succeeded' as const;
  };
  const { result, seen } = await withStubWorker(targetsOf(5), { unit }, (client, queue) => runTrigger(client, queue, input()));
  expect(result).toEqual({ total: 5, succeeded: 4, failed: 1, skipped: 0 });
  expect(seen.failures).toEqual([expect.objectContaining({ targetKey: '003', attempts: 2, error: 'no fee' })]);
});
