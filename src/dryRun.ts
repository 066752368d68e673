// `tju plan`: what a run would do, without doing it. The target query runs in one read-only transaction, paged
// as the run would page it (per partition), and only counts are kept: a million targets cost a few numbers.
import type { Pool } from 'pg';
import { stepsOf, type Batch, type TriggerOptions } from './batch';
import type { Db } from './db/types';
import { reading } from './db/transaction';
import { listRunRecords } from './db/runHistory';
import { buildTriggerInput, type ResolvedRun } from './plan';
import type { Target, TriggerInput } from './contracts/types';
import { fairnessKeyOf, keyOf, preview } from './targets';

/** Temporal's cost of each mode for a one-unit batch, per target, as `npm run bench` counted it at 100,000 targets. */
const MEASURED_COST = {
  'per-target': { actionsPerTarget: 3.008, eventsPerTarget: 9.33, historyBytesPerTarget: 3009 },
  'per-chunk': { actionsPerTarget: 0.006, eventsPerTarget: 0.03, historyBytesPerTarget: 8 },
  bulk: { actionsPerTarget: 0.002, eventsPerTarget: 0.004, historyBytesPerTarget: 1 },
} as const;
/** What each further step of a chain adds to a per-target job: an activity (one action; scheduled, started, completed, and a workflow task). */
const PER_STEP = { actions: 1, events: 6 };
/** Finished runs of the batch whose pace estimates the duration. */
const PACE_RUNS = 5;
/** Refused rows kept as examples: enough to find the bug, never a list that grows with the run. */
const EXAMPLES = 5;
/** Fairness keys counted one by one; past this many only their number's lower bound is said (bounded memory). */
const FAIR_KEYS = 10_000;

export interface RunPlan {
  batch: string;
  runKey: string;
  mode: TriggerInput['granularity'];
  /** Targets the query selects now (every partition's), each once. */
  selected: number;
  /** Rows the run would refuse — a row without a key, a key twice, a key not after the page's last — with a few examples. */
  refused: { count: number; examples: string[] };
  /** Per step, how many selected targets it applies to (`when`). */
  steps: Array<{ unit: string; applies: number }>;
  /** A fair run (`job.fairnessKey`): its keys, the largest, and each key's bound in flight. */
  fairness?: { keys: number; moreKeys: boolean; largest: { key: string; targets: number }; maxInFlightPerKey: number };
  /** Each partition's key range and its targets, when the run is partitioned. */
  partitions?: Array<{ after: string | null; upTo: string | null; targets: number }>;
  /** What the run would cost in Temporal, scaled from the benchmark's counts. */
  temporal: { actions: number; historyEvents: number; historyBytes: number; basis: string };
  /** How long it would take at the pace of the batch's last finished runs, or why there is no estimate. */
  estimate: { seconds: number; targetsPerSecond: number; basis: string } | { none: string };
}

/**
 * What a run of these params would do: starts nothing, writes nothing (the target query runs read-only; a query
 * that writes fails here instead of changing data).
 */
export async function planRun(pool: Pool, run: ResolvedRun, overrides: TriggerOptions = {}, schema?: string): Promise<RunPlan> {
  const input = buildTriggerInput(run, overrides);
  const steps = stepsOf(run.batch);
  const counts = { selected: 0, refused: { count: 0, examples: [] as string[] }, applies: steps.map(() => 0) };
  const fairKeys = new Map<string, number>();
  let moreKeys = false;
  const countKey = (target: Target) => {
    const key = fairnessKeyOf(run.batch.name, run.batch.job.fairnessKey!, target);
    if (fairKeys.has(key) || fairKeys.size < FAIR_KEYS) fairKeys.set(key, (fairKeys.get(key) ?? 0) + 1);
    else moreKeys = true;
  };
  const partitions = await reading(pool, async (tx) => {
    const ranges = await rangesOf(tx, run, input.partitions ?? 1);
    const found: NonNullable<RunPlan['partitions']> = [];
    for (const range of ranges) {
      const before = counts.selected;
      await pageThrough(
        tx,
        run,
        input.pageSize,
        range,
        (target) => {
          counts.selected++;
          if (input.fairness) countKey(target);
          const jobInput = run.batch.job.input(target, run.params as never);
          steps.forEach((step, i) => {
            if (!step.when || step.when(jobInput)) counts.applies[i]++;
          });
        },
        counts.refused,
      );
      found.push({ ...range, targets: counts.selected - before });
    }
    return found;
  });
  return {
    batch: run.batch.name,
    runKey: run.runKey,
    mode: input.granularity,
    selected: counts.selected,
    refused: counts.refused,
    steps: steps.map((step, i) => ({ unit: step.unit.name, applies: counts.applies[i] })),
    ...(input.fairness ? { fairness: fairnessOf(fairKeys, moreKeys, input.fairness.maxInFlightPerKey) } : {}),
    ...(partitions.length > 1 ? { partitions } : {}),
    temporal: temporalCost(input.granularity, counts.selected, steps.length),
    estimate: await estimate(pool, run.batch, counts.selected, schema),
  };
}

function fairnessOf(keys: Map<string, number>, moreKeys: boolean, maxInFlightPerKey: number): NonNullable<RunPlan['fairness']> {
  let largest = { key: '', targets: 0 };
  for (const [key, targets] of keys) if (targets > largest.targets) largest = { key, targets };
  return { keys: keys.size, moreKeys, largest, maxInFlightPerKey };
}

/** The key ranges the run would page: one, or the batch's partitions. */
async function rangesOf(tx: Db, run: ResolvedRun, partitions: number): Promise<Array<{ after: string | null; upTo: string | null }>> {
  if (partitions <= 1 || !run.batch.partitionKeys) return [{ after: null, upTo: null }];
  const keys = await run.batch.partitionKeys(tx, { params: run.params as never, runKey: run.runKey, count: partitions });
  const bounds = [null, ...keys, null];
  return bounds.slice(0, -1).map((after, i) => ({ after, upTo: bounds[i + 1] }));
}

/** Pages through one key range as the trigger would; rows it would refuse are counted, not thrown. */
async function pageThrough(
  tx: Db,
  run: ResolvedRun,
  limit: number,
  range: { after: string | null; upTo: string | null },
  each: (target: Target) => void,
  refused: RunPlan['refused'],
): Promise<void> {
  const refuse = (why: string) => {
    refused.count++;
    if (refused.examples.length < EXAMPLES) refused.examples.push(why);
  };
  for (let after = range.after; ;) {
    const rows = await run.batch.targets(tx, { params: run.params as never, runKey: run.runKey, after, upTo: range.upTo, limit });
    const seen = new Set<string>();
    let last: string | null = null;
    for (const row of rows as unknown[]) {
      const text = keyOf(row);
      if (text === undefined) {
        refuse(`a row without a key: ${preview(row)}`);
        continue;
      }
      if (seen.has(text) || text === after) {
        refuse(
          `key ${JSON.stringify(text)} ${text === after ? 'again after its page (does the query filter on key > after?)' : 'twice in one page'}`,
        );
        continue;
      }
      seen.add(text);
      last = text;
      each({ ...(row as object), key: text } as Target);
    }
    // A short page is the last; a page that does not move past its cursor would never end.
    if (rows.length < limit || last === null || last === after) return;
    after = last;
  }
}

function temporalCost(mode: TriggerInput['granularity'], targets: number, steps: number): RunPlan['temporal'] {
  const measured = MEASURED_COST[mode];
  const extra = mode === 'per-target' ? steps - 1 : 0;
  return {
    actions: Math.round(targets * (measured.actionsPerTarget + extra * PER_STEP.actions)),
    historyEvents: Math.round(targets * (measured.eventsPerTarget + extra * PER_STEP.events)),
    historyBytes: Math.round(targets * measured.historyBytesPerTarget * (1 + extra / 2)),
    basis: `${mode} at 100,000 targets in npm run bench (docs/performance.md)${extra ? `, plus ${extra} step(s) per job` : ''}`,
  };
}

/** Targets per second of the batch's last finished runs (their median), times the targets selected now. */
async function estimate(db: Db, batch: Batch, targets: number, schema?: string): Promise<RunPlan['estimate']> {
  const records = await listRunRecords(db, batch.name, { limit: 50 }, schema);
  const paces = records
    .filter((r) => r.kind === 'run' && r.state === 'completed' && r.finishedAt && r.counts && r.counts.total > 0)
    .slice(0, PACE_RUNS)
    .map((r) => r.counts!.total / Math.max((r.finishedAt!.getTime() - r.startedAt.getTime()) / 1000, 0.001))
    .sort((a, b) => a - b);
  if (paces.length === 0) return { none: `no finished run of ${batch.name} to take a pace from` };
  const pace = paces[Math.floor(paces.length / 2)];
  return {
    seconds: Math.round(targets / pace),
    targetsPerSecond: Math.round(pace * 10) / 10,
    basis: `the median pace of its last ${paces.length} finished run(s)`,
  };
}
