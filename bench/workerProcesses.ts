import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import type { BenchWorkerConfig, BenchWorkerMessage } from './worker';

export interface WorkerProcesses {
  pids: number[];
  /** Called for every committed unit any of the workers reports. */
  onUnits(listener: (scheduledAt: number, finishedAt: number) => void): void;
  /** Resolves once every worker has sent what it had (they report every 100 ms). */
  drained(): Promise<void>;
  /** Shuts the workers down gracefully and waits for them to exit. */
  stop(): Promise<void>;
}

/** Forks `count` bench workers on one task queue and resolves once each of them polls. */
export async function startWorkers(count: number, config: BenchWorkerConfig): Promise<WorkerProcesses> {
  const entry = path.join(__dirname, 'worker.js');
  let listener: (scheduledAt: number, finishedAt: number) => void = () => undefined;
  // With TJU_BENCH_PROFILE=<dir>, each worker writes a V8 CPU profile there when it exits (bench/profile.ts reads it).
  const profile = process.env.TJU_BENCH_PROFILE;
  const execArgv = profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [];
  const children: ChildProcess[] = Array.from({ length: count }, () =>
    fork(entry, [JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv }),
  );
  const ready = children.map(
    (child) =>
      new Promise<void>((resolve, reject) => {
        child.on('message', (message: BenchWorkerMessage) => {
          if ('ready' in message) resolve();
          else for (let i = 0; i < message.units.length; i += 2) listener(message.units[i], message.units[i + 1]);
        });
        child.once('exit', (code) => reject(new Error(`a bench worker exited with code ${code} before it was ready`)));
      }),
  );
  await Promise.all(ready);
  return {
    pids: children.map((child) => child.pid!),
    onUnits: (l) => (listener = l),
    drained: () => new Promise((resolve) => setTimeout(resolve, 300)),
    stop: async () => {
      await Promise.all(
        children.map(async (child) => {
          const exited = once(child, 'exit');
          child.send('stop');
          await exited;
        }),
      );
    },
  };
}
