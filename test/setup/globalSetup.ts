// Starts the real parts every test talks to: a Temporal dev server (unless TEMPORAL_ADDRESS names one) and a
// migrated template database that each test file copies. Bundles the workflows once.
import { applyBillingSchema } from '../../examples/billing/schema';
import { migrate } from '../../src/db/migrate';
import { adminUrl, TEMPLATE_DB } from '../helpers/databases';
import { startTemporal } from './temporal';

export default async function globalSetup(): Promise<void> {
  await startTemporal();
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
}
