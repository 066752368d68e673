import type { Client } from '@temporalio/client';
import { DEFAULT_TEMPORAL_ADDRESS, loadConfig, uiUrlFor, type Config } from '../config';
import type { Batch } from '../definitions';
import { connectClient } from '../temporal/connect';
import { TjuClient } from '../temporal/client';

export interface Session {
  config: Config;
  address: string;
  client: Client;
  tju: TjuClient;
  close(): Promise<void>;
}

/** A client on the configured Temporal server, for commands that start or inspect runs. */
export async function openSession(batches: readonly Batch[], config = loadConfig()): Promise<Session> {
  const address = config.temporalAddress ?? DEFAULT_TEMPORAL_ADDRESS;
  const client = await connectClient(address, config.namespace);
  const tju = new TjuClient({ client, batches, taskQueue: config.taskQueue, uiUrl: uiUrlFor(config, address) });
  return { config, address, client, tju, close: () => client.connection.close() };
}
