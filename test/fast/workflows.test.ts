// The workflows' own logic in seconds: the real trigger, job and chunk workflows on the dev server, with
// stub activities in place of PostgreSQL (Temporal's own way to test workflows: Worker.runUntil).
import { Client, Connection } from '@temporalio/client';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Activities, ActivityDeps } from '../../activities';
import { runBulkChunk } from '../../activities/bulk';
import { runActivities } from '../../activities/runs';
import { fitPage, PAGE_BYTES } from '../../activities/targets';
import { jobWorkflowId } from '../../src/contracts/ids';
import { installRuntime } from '../../src/temporal/runtime';
import { metricSinks } from '../../src/temporal/metrics';
import {
  ENGINE,
  type ChunkInput,
  type ChunkJobInput,
  type FailureRecord,
  type FetchTargetsRequest,
  type JobSettings,
  type JobTargets,
  type RunRecordUpdate,
  type RunSummary,
  type SettleRequest,
  type Target,
  type TriggerInput,
  type UnitRequest,
} from '../../src/contracts/types';

/** `n` targets keyed 001…n, in key order, as a target query returns them. */
const targetsOf = (n: number): Target[] => Array.from({ length: n }, (_, i) => ({ key: String(i + 1).padStart(3, '0') }));

type Outcome = 'succeeded' | 'skipped' | 'not-applicable';

interface Stubs {
  /** What a unit does for a target (and step of its chain): resolve with an outcome, or throw. */
  unit?: (target: Target, attempt: number, step: number) => Promise<Outcome>;
  /** A bulk chunk: its counts, or a throw (the chunk gave up). */
  chunk?: (input: ChunkInput) => Promise<Omit<RunSummary, 'total'>>;
}

/** Runs `fn` with a worker whose activities are stubs over `targets`; returns what the stubs saw. */
async function withStubWorker<T>(targets: Target[], stubs: Stubs, fn: (client: Client, taskQueue: string) => Promise<T>) {
  installRuntime();
  // What the real fetch writes to PostgreSQL for a bulk run, or a per-chunk one of local units: a page's chunks, by row number.
  const staged = new Map<string, Target[]>();
  const stagedOrGiven = (targets: JobTargets) => (Array.isArray(targets) ? targets : staged.get(targets.staged)!);
  const seen = {
    failures: [] as FailureRecord[],
    history: [] as RunRecordUpdate[],
    settled: [] as Array<SettleRequest & { targets: Target[] }>,
    /** Chunks (bulk, or per-chunk of local units) that arrived as a staged row, not as their targets. */
    stagedChunks: 0,
    /** Per-chunk chunks that ran as one local activity. */
    localChunks: 0,
    unitsInFlight: 0,
    maxUnitsInFlight: 0,
    units: 0,
  };
  /** One step of one target: the stub unit, counted. */
  const unit = async (target: Target, attempt: number, step: number) => {
    seen.units++;
    seen.maxUnitsInFlight = Math.max(seen.maxUnitsInFlight, ++seen.unitsInFlight);
    try {
      return await (stubs.unit ?? (async () => 'succeeded' as const))(target, attempt, step);
    } finally {
      seen.unitsInFlight--;
    }
  };
  const activities: Partial<Activities> = {
    async fetchTargets({ batch, after, upTo, limit, stageChunks }: FetchTargetsRequest) {
      if (batch === 'stub.broken-query') throw ApplicationFailure.nonRetryable('relation "stubs" does not exist', 'TargetQueryFailed');
      const page = targets.filter((t) => (after === null || t.key > after) && (!upTo || t.key <= upTo)).slice(0, limit);
      if (stageChunks) {
        const chunks = [];
        for (let i = 0; i < page.length; i += stageChunks) {
          const chunk = page.slice(i, i + stageChunks);
          staged.set(String(staged.size + 1), chunk);
          chunks.push({ staged: String(staged.size), count: chunk.length, first: chunk[0].key, last: chunk[chunk.length - 1].key });
        }
        return { chunks, more: page.length >= limit };
      }
      // Fat rows: the real fetch cuts the page to fit a payload (here 2–3 targets of the stub's ~15 bytes each).
      return batch === 'stub.fat-rows' ? fitPage(page, 40) : page;
    },
    async partitionKeys({ count }: { count: number }) {
      return Array.from({ length: count - 1 }, (_, i) => targets[Math.floor(((i + 1) * targets.length) / count)].key);
    },
    async runUnit(request: UnitRequest) {
      return unit(request.target, Context.current().info.attempt, request.step);
    },
    async recordFailure(failure: FailureRecord) {
      seen.failures.push(failure);
    },
    async runFailed() {},
    async recordRun(update: RunRecordUpdate) {
      seen.history.push(update);
    },
    // A bulk chunk, or a per-chunk job's chunk (a local activity): the real loop over the stub unit.
    async runChunk(input: ChunkJobInput) {
      if (!Array.isArray(input.targets)) seen.stagedChunks++;
      if (Context.current().info.isLocal) seen.localChunks++;
      const chunk: ChunkInput = { ...input, targets: stagedOrGiven(input.targets) };
      if (stubs.chunk) return stubs.chunk(chunk);
      const lane = () => ({
        runStep: (target: Target, step: number, attempt: number) => unit(target, attempt, step),
        close: async () => {},
      });
      return runBulkChunk({ lane, recordFailure: async (failure) => void seen.failures.push(failure) }, chunk);
    },
    // What the ledger would say: nothing done, so every target gets a failure record.
    async settleTargets(request: SettleRequest) {
      const settled = { ...request, targets: stagedOrGiven(request.targets) };
      seen.settled.push(settled);
      return { succeeded: 0, failed: settled.targets.length, skipped: 0 };
    },
    // The real one: it waits through the worker's own client.
    awaitJob: runActivities({} as ActivityDeps).awaitJob,
  };
  const address = process.env.TEMPORAL_ADDRESS!;
  const taskQueue = `workflows-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  const workerConnection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection: workerConnection,
    taskQueue,
    workflowBundle: { codePath: process.env.TJU_TEST_WORKFLOW_BUNDLE! },
    activities,
    sinks: metricSinks(), // as a tju worker has them: the workflows count through this sink
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
  engine: ENGINE,
  batch: 'stub.batch',
  runKey: `run-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`,
  params: {},
  window: 10,
  pageSize: 7,
  maxHistoryEvents: 5000,
  granularity: 'per-target',
  chunkSize: 1,
  chunkConcurrency: 1,
  job: { steps: [{ unit: 'stub.unit', retry: { maximumAttempts: 2, initialInterval: '10ms' }, timeout: '10s' }] },
  ...overrides,
});

/** A chain of three steps: the second applies to odd keys only. */
const chain: JobSettings = {
  steps: ['stub.first', 'stub.odd-only', 'stub.last'].map((unit) => ({
    unit,
    retry: { maximumAttempts: 2, initialInterval: '10ms' },
    timeout: '10s',
  })),
};
/** One unit that runs as an activity of its own (a rate limit, a task queue). */
const regular: JobSettings = {
  steps: [{ unit: 'stub.unit', retry: { maximumAttempts: 2, initialInterval: '10ms' }, timeout: '10s', regular: true }],
};
const chainUnit = async (target: Target, _attempt: number, step: number): Promise<Outcome> => {
  if (step === 1 && Number(target.key) % 2 === 0) return 'not-applicable';
  if (step === 2 && target.key === '003') throw new Error('last step refused');
  return 'succeeded';
};

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
  // Pages of 7 make seven chunks of 7 and one of 1: one local activity each, each staged.
  expect(seen.localChunks).toBe(8);
  expect(seen.stagedChunks).toBe(8);
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

it.each(['per-target', 'per-chunk'] as const)("%s: runs each target's chain in order and counts every step", async (granularity) => {
  const { result, seen } = await withStubWorker(targetsOf(6), { unit: chainUnit }, (client, queue) =>
    runTrigger(client, queue, input({ job: chain, granularity, chunkSize: 4, chunkConcurrency: 2 })),
  );
  expect(result).toEqual({
    total: 6,
    succeeded: 5,
    failed: 1,
    skipped: 0,
    steps: {
      'stub.first': { succeeded: 6 },
      'stub.odd-only': { succeeded: 3, 'not-applicable': 3 },
      'stub.last': { succeeded: 5, failed: 1 },
    },
  });
  expect(seen.failures).toEqual([expect.objectContaining({ targetKey: '003', unit: 'stub.last', attempts: 2 })]);
});

it('bulk: counts each chunk, and settles the targets of a chunk that failed for good instead of counting them blind', async () => {
  const chunk = async (input: ChunkInput) => {
    if (input.targets[0].key === '006') throw ApplicationFailure.nonRetryable('the chunk cannot go on');
    return { succeeded: input.targets.length, failed: 0, skipped: 0 };
  };
  const { result, seen } = await withStubWorker(targetsOf(12), { chunk }, (client, queue) =>
    runTrigger(client, queue, input({ granularity: 'bulk', chunkSize: 5, chunkConcurrency: 2, window: 2, pageSize: 50 })),
  );
  // Pages of 12, chunks of 5: 001–005, 006–010 (gave up), 011–012, each staged: no target crosses the history.
  expect(result).toEqual({ total: 12, succeeded: 7, failed: 5, skipped: 0 });
  expect(seen.stagedChunks).toBe(3);
  expect(seen.settled.map((s) => s.targets.map((t) => t.key))).toEqual([['006', '007', '008', '009', '010']]);
  expect(seen.settled[0].reason).toEqual({ type: 'JobEnded', message: expect.stringMatching(/^its job gave up: /) });
});

it('per-chunk with a regular unit: pages cut to fit a payload go on to the next page, short as they are; every target is dispatched once', async () => {
  const dispatched: string[] = [];
  const unit = async (target: Target) => {
    dispatched.push(target.key);
    return 'succeeded' as const;
  };
  const { result, seen } = await withStubWorker(targetsOf(20), { unit }, (client, queue) =>
    runTrigger(
      client,
      queue,
      input({ batch: 'stub.fat-rows', granularity: 'per-chunk', chunkSize: 10, chunkConcurrency: 2, pageSize: 10, job: regular }),
    ),
  );
  expect(result).toEqual({ total: 20, succeeded: 20, failed: 0, skipped: 0 });
  // An activity per unit: such chunks carry their targets, and are never staged.
  expect(seen.stagedChunks).toBe(0);
  expect(dispatched.sort()).toEqual(targetsOf(20).map((t) => t.key));
});

it('bulk: staged pages of several chunks, the last one short, dispatch every target once and stop', async () => {
  const dispatched: string[] = [];
  const chunk = async (input: ChunkInput) => {
    dispatched.push(...input.targets.map((t) => t.key));
    return { succeeded: input.targets.length, failed: 0, skipped: 0 };
  };
  const { result, seen } = await withStubWorker(targetsOf(23), { chunk }, (client, queue) =>
    runTrigger(client, queue, input({ granularity: 'bulk', chunkSize: 4, chunkConcurrency: 2, window: 3, pageSize: 10 })),
  );
  expect(result).toEqual({ total: 23, succeeded: 23, failed: 0, skipped: 0 });
  expect(dispatched.sort()).toEqual(targetsOf(23).map((t) => t.key));
  // Pages of 10, 10 and 3, as chunks of 4, 4, 2 / 4, 4, 2 / 3.
  expect(seen.stagedChunks).toBe(7);
});

it('cuts a page of fat rows to what fits in one payload, keeping at least one target', () => {
  const rows = targetsOf(5).map((t) => ({ ...t, notes: 'x'.repeat(400) }));
  expect(fitPage(rows)).toBe(rows); // whole: 2 KB
  // 2,000 lean rows (90 KB) would make the trigger's history unreadable 256 events at a time: cut within 32 KB.
  const lean = Array.from({ length: 2000 }, (_, i) => ({ key: String(100000 + i), payment_method: 'bank_transfer' }));
  const page = fitPage(lean);
  expect(page).toMatchObject({ more: true });
  const kept = (page as { targets: Target[] }).targets;
  expect(kept.length).toBeGreaterThan(500);
  expect(JSON.stringify(kept).length).toBeLessThanOrEqual(PAGE_BYTES + kept.length);
  const cut = fitPage(rows, 1000);
  expect(cut).toEqual({ targets: rows.slice(0, 2), more: true });
  expect(fitPage(rows, 10)).toEqual({ targets: rows.slice(0, 1), more: true });
});

it('per-target: awaits a job another trigger started under the same ID, and settles one an operator terminated', async () => {
  const args = input({ window: 5 });
  const unit = async (target: Target) => {
    await new Promise((resolve) => setTimeout(resolve, target.key === '002' ? 1500 : target.key === '004' ? 5000 : 10));
    return 'succeeded' as const;
  };
  const { result, seen } = await withStubWorker(targetsOf(5), { unit }, async (client, queue) => {
    // Another trigger of the run already runs the job of 002.
    const job = { engine: ENGINE, batch: args.batch, runKey: args.runKey, params: {}, target: { key: '002' }, settings: args.job };
    await client.workflow.start('jobWorkflow', {
      workflowId: jobWorkflowId(args.batch, args.runKey, '002'),
      taskQueue: queue,
      args: [job],
    });
    const run = runTrigger(client, queue, args);
    const stuck = client.workflow.getHandle(jobWorkflowId(args.batch, args.runKey, '004'));
    while (!(await stuck.describe().catch(() => undefined))) await new Promise((resolve) => setTimeout(resolve, 50));
    await stuck.terminate('an operator');
    return run;
  });
  expect(result).toEqual({ total: 5, succeeded: 4, failed: 1, skipped: 0 });
  expect(seen.settled).toEqual([
    expect.objectContaining({ targets: [{ key: '004' }], reason: { type: 'JobEnded', message: 'its job was terminated' } }),
  ]);
});

it('stops the run deliberately, with its error, when the target query fails for good', async () => {
  const { result } = await withStubWorker([], {}, async (client, queue) => {
    const args = input({ batch: 'stub.broken-query' });
    return runTrigger(client, queue, args);
  });
  expect(result).toMatchObject({ total: 0, stopped: { state: 'failed', reason: 'target query failed: relation "stubs" does not exist' } });
});
