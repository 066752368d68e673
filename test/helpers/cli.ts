import { spawn } from 'node:child_process';
import path from 'node:path';

const BIN = path.join(__dirname, '..', '..', 'bin', 'tju.js');
/** The example's batches and the test batches. */
export const TEST_CONFIG = path.join(__dirname, '..', 'fixtures', 'tju.config.ts');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built `tju` binary with the test config (unless `args` name one). Asynchronous, so a worker in the
 * test process keeps working meanwhile; `onStderr` sees what it has said so far, each time it says more, so a
 * test can act on an event the command reports.
 */
export function tju(
  args: string[],
  env: Record<string, string | undefined> = {},
  cwd?: string,
  onStderr?: (stderrSoFar: string) => void,
): Promise<CliResult> {
  const config = args.some((a) => a.startsWith('--config')) || cwd ? [] : ['--config', TEST_CONFIG];
  return run(BIN, [...config, ...args], env, cwd, onStderr);
}

/** The billing example's own command line (tju's commands plus its `demo`), built. */
export const billingCli = (args: string[], env: Record<string, string | undefined> = {}) =>
  run(path.join(__dirname, '..', '..', 'dist', 'examples', 'billing', 'cli.js'), args, env);

function run(
  entry: string,
  args: string[],
  env: Record<string, string | undefined>,
  cwd?: string,
  onStderr?: (stderrSoFar: string) => void,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry, ...args], {
      cwd,
      env: { ...process.env, TJU_LOG_LEVEL: 'error', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      onStderr?.(stderr);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
