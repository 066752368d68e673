import fs from 'node:fs';

/**
 * CPU seconds used so far by the three parts of a run — the worker processes (or this one, for the plain
 * loops), the Temporal server and PostgreSQL — read from /proc, so a benchmark can say where the time goes.
 * Linux only; elsewhere, or for a server on another host, a part reads as undefined.
 */
export interface CpuReading {
  worker: number;
  server?: number;
  postgres?: number;
}

const ticksPerSecond = 100; // USER_HZ, 100 on every mainstream Linux build

/** The fields of /proc/<pid>/stat after the command name, which is in parentheses and may hold spaces. */
function statFields(pid: number | string): string[] {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime (+ reaped children's) of one process, in seconds; undefined if it is gone or unreadable. */
function processCpu(pid: number, withChildren = false): number | undefined {
  try {
    const fields = statFields(pid);
    const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((i) => Number(fields[i]));
    return (utime + stime + (withChildren ? cutime + cstime : 0)) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

/** Every live postgres process, plus what the postmaster has reaped from exited backends. */
function postgresCpu(): number | undefined {
  let total = 0;
  let found = false;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let comm: string;
    let ppidComm: string | undefined;
    try {
      comm = fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (comm !== 'postgres') continue;
      const ppid = statFields(entry)[1];
      ppidComm = fs.readFileSync(`/proc/${ppid}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    const isPostmaster = ppidComm !== 'postgres';
    const cpu = processCpu(Number(entry), isPostmaster);
    if (cpu !== undefined) {
      total += cpu;
      found = true;
    }
  }
  return found ? total : undefined;
}

export function readCpu(serverPid?: number, workerPids: number[] = []): CpuReading {
  const self = process.cpuUsage();
  return {
    worker: workerPids.length ? workerPids.reduce((sum, pid) => sum + (processCpu(pid) ?? 0), 0) : (self.user + self.system) / 1e6,
    server: serverPid ? processCpu(serverPid) : undefined,
    postgres: process.platform === 'linux' ? postgresCpu() : undefined,
  };
}

/** CPU milliseconds per target that each part spent between two readings. */
export function cpuMsPerTarget(before: CpuReading, after: CpuReading, targets: number) {
  const per = (a?: number, b?: number) => (a === undefined || b === undefined ? null : Number((((b - a) * 1000) / targets).toFixed(2)));
  return {
    worker: per(before.worker, after.worker),
    server: per(before.server, after.server),
    postgres: per(before.postgres, after.postgres),
  };
}

/** Resident memory of the given processes together (this one when none), in MB. */
export function rssMb(pids: number[] = []): number {
  if (!pids.length) return process.memoryUsage().rss / 2 ** 20;
  let kb = 0;
  for (const pid of pids) {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // exited
    }
  }
  return kb / 1024;
}
