import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { UserError } from '../errors';

function unreachable(address: string, err: unknown): UserError {
  const reason = (err as Error).message.split('\n')[0];
  return new UserError(`cannot reach Temporal at ${address}: ${reason}`);
}

export async function connectClient(address: string, namespace: string): Promise<Client> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: '5s' });
    return new Client({ connection, namespace });
  } catch (err) {
    throw unreachable(address, err);
  }
}

export async function connectWorker(address: string): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect({ address });
  } catch (err) {
    throw unreachable(address, err);
  }
}
