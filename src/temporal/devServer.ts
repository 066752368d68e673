import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { UserError } from '../errors';
import { cacheDir, projectRoot } from '../paths';
import { devServerSearchAttributeFlags } from './searchAttributes';

/** Newer tags carry a `replace` directive that `go install` refuses. */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';

function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * The `temporal` binary: $TEMPORAL_CLI, else `temporal` on PATH, else the pinned version built once with
 * `go install` into the user's cache, where every clone and CI run on this machine finds it again.
 */
export function ensureTemporalCli(log: (line: string) => void = console.error): string {
  const configured = process.env.TEMPORAL_CLI;
  if (configured) {
    if (!fs.existsSync(configured)) throw new UserError(`TEMPORAL_CLI: no file at ${configured}`);
    return configured;
  }
  const found = onPath('temporal');
  if (found) return found;
  const dir = path.join(cacheDir(), `temporal-cli-${TEMPORAL_CLI_VERSION}`);
  const cached = path.join(dir, 'temporal');
  if (fs.existsSync(cached)) return cached;
  if (!onPath('go')) {
    throw new UserError(
      `no Temporal CLI: set TEMPORAL_CLI to a temporal binary, put one on PATH, or install Go so tju can build ` +
        `it (go install ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION})`,
    );
  }
  // The build downloads and compiles ~160 modules: one line here, the whole story in a log file.
  fs.mkdirSync(cacheDir(), { recursive: true });
  const logFile = path.join(cacheDir(), `temporal-cli-${TEMPORAL_CLI_VERSION}-build.log`);
  log(
    `Building the Temporal CLI ${TEMPORAL_CLI_VERSION} with go install, which tju needs for a local dev server: once per ` +
      `machine, a few minutes the first time (it downloads and compiles its modules; log: ${logFile})...`,
  );
  // Build into a private folder and rename it into place, so a concurrent or interrupted build never
  // leaves a half-written binary where the next run would trust it. The builder says how far it is.
  const staging = `${dir}.building-${process.pid}`;
  fs.mkdirSync(staging, { recursive: true });
  // The compiled builder (beside this file in dist/, or in dist/ when this runs from the sources).
  const builder = [path.join(__dirname, 'buildCli.js'), path.join(projectRoot, 'dist', 'src', 'temporal', 'buildCli.js')].find((f) =>
    fs.existsSync(f),
  )!;
  const build = spawnSync(process.execPath, [builder, `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`, staging, logFile], {
    env: process.env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (build.status !== 0) {
    fs.rmSync(staging, { recursive: true, force: true });
    const last = fs.readFileSync(logFile, 'utf8').trim().split('\n').pop();
    throw new UserError(`building the Temporal CLI failed (go install exited ${build.status ?? build.signal}: ${last}; log: ${logFile})`);
  }
  try {
    fs.renameSync(staging, dir);
  } catch {
    fs.rmSync(staging, { recursive: true, force: true }); // another process won the race
  }
  return cached;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** True when a Temporal frontend answers at `address` within `timeoutMs`. */
export async function isTemporalUp(address: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const { Connection } = await import('@temporalio/client');
    const connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    try {
      await connection.workflowService.getSystemInfo({});
      return true;
    } finally {
      await connection.close();
    }
  } catch {
    return false;
  }
}

export interface DevServerOptions {
  port: number;
  uiPort: number;
  /** Keep workflow histories across restarts in this SQLite file; in memory when unset. */
  dbFile?: string;
  /** Leave the server running after this process exits (the demo does, so its UI link keeps working). */
  detached?: boolean;
  logFile?: string;
}

export interface DevServer {
  address: string;
  uiUrl: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `temporal server start-dev` with tju's search attributes and waits until it answers. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const binary = ensureTemporalCli();
  const address = `127.0.0.1:${options.port}`;
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--ui-port',
    String(options.uiPort),
    '--log-level',
    'error',
    ...devServerSearchAttributeFlags,
    ...(options.dbFile ? ['--db-filename', options.dbFile] : []),
  ];
  const logFd = options.logFile ? fs.openSync(options.logFile, 'a') : 'ignore';
  const child = spawn(binary, args, { detached: options.detached, stdio: ['ignore', logFd, logFd] });
  if (options.detached) child.unref();
  let exited: string | undefined;
  child.on('exit', (code, signal) => (exited = `exited with ${code ?? signal}`));

  const deadline = Date.now() + 60_000;
  while (!(await isTemporalUp(address))) {
    if (exited) throw new UserError(`the Temporal dev server ${exited} (see ${options.logFile ?? 'its output'})`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new UserError(`the Temporal dev server did not answer on ${address} within 60s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return {
    address,
    uiUrl: `http://127.0.0.1:${options.uiPort}`,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * A dev server on ports free a moment ago. Another process (or the server's own ephemeral listeners) can take
 * one between the choice and the bind; the server then exits at once, and a new pair of ports is tried.
 */
export async function startDevServerOnFreePorts(options: Omit<DevServerOptions, 'port' | 'uiPort'> = {}): Promise<DevServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDevServer({ ...options, port: await freePort(), uiPort: await freePort() });
    } catch (err) {
      if (attempt >= 3 || !/dev server exited/.test((err as Error).message)) throw err;
    }
  }
}
