/**
 * What a run of 1M or 10M targets would take in each mode, scaled from this bench run's per-target figures:
 * Temporal history events and bytes, Temporal Cloud actions, ledger rows and bytes, and the CPU cores
 * (worker, Temporal server, PostgreSQL) and trigger partitions that would finish it in one hour.
 */
export interface ModeFigures {
  mode: string;
  workers?: number;
  eventsPerTarget?: number;
  historyBytesPerTarget?: number;
  actionsPer1000?: number;
  ledgerBytesPerTarget: number;
  cpuMsPerTarget: { worker: number | null; server: number | null; postgres: number | null };
}

/** Targets per job, by mode: what one trigger dispatches per target (defaults). */
const TARGETS_PER_JOB: Record<string, number> = { 'per-target': 1, 'per-chunk': 500, bulk: 2000 };
/**
 * A planning figure, not a measurement of a limit: the jobs a second one trigger workflow is asked to start
 * and count. Each job is a few events in the trigger's history, and one workflow's history is written in
 * order by one shard; past this, split the run into partitions.
 */
export const JOBS_PER_SECOND_PER_TRIGGER = 100;

export function sizing(results: ModeFigures[], targets: number[] = [1e6, 1e7], hours = 1) {
  const rows = [];
  for (const r of results) {
    if ((r.workers ?? 1) > 1 || r.mode === 'bare') continue;
    for (const n of targets) {
      const perSecond = n / (hours * 3600);
      const cores = (ms: number | null) => (ms === null ? null : round((perSecond * ms) / 1000, 1));
      const perJob = TARGETS_PER_JOB[r.mode];
      rows.push({
        mode: r.mode,
        targets: n,
        historyEvents: r.eventsPerTarget === undefined ? null : Math.round(r.eventsPerTarget * n),
        historyGb: r.historyBytesPerTarget === undefined ? null : round((r.historyBytesPerTarget * n) / 1e9, 2),
        actions: r.actionsPer1000 === undefined ? null : Math.round((r.actionsPer1000 * n) / 1000),
        ledgerRows: n,
        ledgerGb: round((r.ledgerBytesPerTarget * n) / 1e9, 2),
        targetsPerSecond: Math.round(perSecond),
        workerCores: cores(r.cpuMsPerTarget.worker),
        serverCores: cores(r.cpuMsPerTarget.server),
        postgresCores: cores(r.cpuMsPerTarget.postgres),
        partitions: perJob ? Math.max(1, Math.ceil(perSecond / perJob / JOBS_PER_SECOND_PER_TRIGGER)) : null,
      });
    }
  }
  return rows;
}

const round = (n: number, digits: number) => Number(n.toFixed(digits));
