import type http from 'node:http';
import { UserError } from '../errors';

/** A server that could not listen (a port in use, an address not here), as one line. */
export const cannotListen = (host: string, port: number, err: NodeJS.ErrnoException): UserError =>
  new UserError(`cannot listen on ${host}:${port}: ${err.code ?? err.message}`);

/** Resolves once SIGINT or SIGTERM has closed the server, with the connections clients keep open. */
export function untilSignalled(server: http.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const)
      process.once(signal, () => {
        server.close(() => resolve());
        server.closeAllConnections(); // browsers keep polling connections open
      });
  });
}
