import type { Client, Connection } from '@temporalio/client';
import { tracingOn } from '../telemetry/tracing';
import type { NativeConnection } from '@temporalio/worker';
import type { TemporalTarget } from '../config';
import { UnreachableError, UserError } from '../errors';
import { installRuntime } from './runtime';

const GRPC_NOT_FOUND = 5;

function unreachable(address: string, err: unknown): UnreachableError {
  const reason = ((err as Error).message ?? String(err)).split('\n')[0];
  return new UnreachableError(`cannot reach Temporal at ${address}: ${reason}`);
}

/**
 * A client on `address`, checked with one call before it is used: an address that answers but is not
 * Temporal, or a namespace the server lacks, is a one-line UserError here instead of a stack trace later.
 */
export async function connectClient({ address, namespace, tls, apiKey, metadata, codec }: TemporalTarget): Promise<Client> {
  const { Client, Connection } = await import('@temporalio/client');
  let connection: Connection;
  try {
    connection = await Connection.connect({ address, tls, apiKey, metadata, connectTimeout: '5s' });
  } catch (err) {
    throw unreachable(address, err);
  }
  try {
    await connection.withDeadline(Date.now() + 5000, () => connection.workflowService.describeNamespace({ namespace }));
  } catch (err) {
    await connection.close();
    if ((err as { code?: number }).code === GRPC_NOT_FOUND) {
      throw new UserError(`Temporal at ${address} has no namespace "${namespace}" (TEMPORAL_NAMESPACE)`);
    }
    throw unreachable(address, err);
  }
  // Traced (OTEL_* in the environment): the run's start opens its trace.
  const interceptors = tracingOn() ? await (await import('../telemetry/temporal')).tracedClientInterceptors() : undefined;
  return new Client({
    connection,
    namespace,
    ...(codec ? { dataConverter: { payloadCodecs: [codec] } } : {}),
    ...(interceptors ? { interceptors } : {}),
  });
}

export async function connectWorker({ address, tls, apiKey, metadata }: TemporalTarget): Promise<NativeConnection> {
  installRuntime(); // unless the caller installed it first, with its own options
  const { NativeConnection } = await import('@temporalio/worker');
  try {
    return await NativeConnection.connect({ address, tls, apiKey, metadata });
  } catch (err) {
    throw unreachable(address, err);
  }
}
