// Starts the real parts every test talks to: a Temporal dev server (unless TEMPORAL_ADDRESS names one)
// and a migrated template database that each test file copies. Bundles the workflows once.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyBillingSchema } from '../../examples/billing/schema';
import { migrate } from '../../src/db/migrate';
import { startDevServerOnFreePorts, type DevServer } from '../../src/temporal/devServer';
import { bundleWorkflows } from '../../src/temporal/worker';
import { adminUrl, TEMPLATE_DB } from '../helpers/databases';

declare global {
  var tjuDevServer: DevServer | undefined;
}

export default async function globalSetup(): Promise<void> {
  // Failing units are expected in tests; keep their warnings out of the report.
  process.env.TJU_LOG_LEVEL ??= 'error';
  if (!process.env.TEMPORAL_ADDRESS) {
    const server = await startDevServerOnFreePorts({ logFile: path.join(os.tmpdir(), `tju-test-temporal-${process.pid}.log`) });
    globalThis.tjuDevServer = server;
    process.env.TEMPORAL_ADDRESS = server.address;
  }

  const admin = new (await import('pg')).Client({ connectionString: adminUrl('postgres') });
  admin.on('error', () => undefined);
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DB} WITH (FORCE)`);
  await admin.end();
  await migrate(adminUrl(TEMPLATE_DB));
  // Most tests bill subscriptions: the example app's tables are in the template too.
  const template = new (await import('pg')).Pool({ connectionString: adminUrl(TEMPLATE_DB) });
  template.on('error', () => undefined);
  await applyBillingSchema(template);
  await template.end();

  const { code } = await bundleWorkflows();
  const bundlePath = path.join(os.tmpdir(), `tju-test-workflows-${process.pid}.js`);
  fs.writeFileSync(bundlePath, code);
  process.env.TJU_TEST_WORKFLOW_BUNDLE = bundlePath;
}
