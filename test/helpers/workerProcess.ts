import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { TEST_CONFIG } from './cli';
import type { Harness } from './harness';

const BIN = path.join(__dirname, '..', '..', 'bin', 'tju.js');

/**
 * A `tju worker` process (the built binary, with the test config) on a harness's database, namespace and
 * task queue; resolves once it polls. Its stderr is kept in `output()` for assertions.
 */
export function startWorkerProcess(h: Harness, env: Record<string, string> = {}, config = TEST_CONFIG): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [BIN, '--config', config, 'worker'], {
    env: {
      ...process.env,
      ...h.env,
      TJU_LOG_LEVEL: 'error',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
      if (stderr.includes('polling')) resolve(handle);
    });
    const handle: WorkerProcess = {
      child,
      exited: () => exit,
      output: () => stderr,
      kill: (signal = 'SIGKILL') => {
        child.kill(signal);
        return exit;
      },
    };
    void exit.then((code) => reject(new Error(`worker exited with ${code} before polling: ${stderr}`)));
  });
}

export interface WorkerProcess {
  child: ChildProcess;
  /** Resolves with the exit code once the process has exited. */
  exited(): Promise<number | null>;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}
