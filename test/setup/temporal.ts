// The parts of the test set-up both tiers share: a Temporal dev server (unless TEMPORAL_ADDRESS names one)
// and the workflow bundle every test worker loads.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDevServerOnFreePorts, type DevServer } from '../../src/temporal/devServer';
import { bundleWorkflows } from '../../src/temporal/worker';

declare global {
  var tjuDevServer: DevServer | undefined;
}

export async function startTemporal(): Promise<void> {
  // Failing units are expected in tests; keep their warnings out of the report.
  process.env.TJU_LOG_LEVEL ??= 'error';
  if (!process.env.TEMPORAL_ADDRESS) {
    const server = await startDevServerOnFreePorts({ logFile: path.join(os.tmpdir(), `tju-test-temporal-${process.pid}.log`) });
    globalThis.tjuDevServer = server;
    process.env.TEMPORAL_ADDRESS = server.address;
  }
  const { code } = await bundleWorkflows();
  const bundlePath = path.join(os.tmpdir(), `tju-test-workflows-${process.pid}.js`);
  fs.writeFileSync(bundlePath, code);
  process.env.TJU_TEST_WORKFLOW_BUNDLE = bundlePath;
}
