import os from 'node:os';
import path from 'node:path';
import type { Config } from 'tju';
import { isTemporalUp, startDevServer } from 'tju/testing';

const LOCAL_TEMPORAL = '127.0.0.1:7233';

/** A demo's own database on the configured server (`name`), so it never touches the app's data. */
export function demoDatabaseUrl(databaseUrl: string, name: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** The configured server, else a running local dev server, else one started now and left running. */
export async function temporalForDemo({ temporalAddress, temporal }: Config): Promise<{ target: Config['temporal']; started?: number }> {
  if (temporalAddress || (await isTemporalUp(LOCAL_TEMPORAL))) return { target: temporal };
  const [, port] = LOCAL_TEMPORAL.split(':');
  const logFile = path.join(os.tmpdir(), 'tju-demo-dev-server.log');
  console.log(`Starting a Temporal dev server on ${LOCAL_TEMPORAL} (in memory; log in ${logFile})...`);
  // In memory: with a SQLite file the dev server ran the demo at less than half the speed.
  const server = await startDevServer({
    port: Number(port),
    uiPort: Number(port) + 1000,
    logFile,
    detached: true,
  });
  return { target: { ...temporal, address: server.address }, started: server.process.pid };
}
