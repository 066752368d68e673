import { UnreachableError } from '../errors';

/**
 * Runs `connect` until it succeeds, or for `patienceMs` while the server does not answer, with backoff and a
 * line each try: under a supervisor (compose, Kubernetes) a worker or a migration may start before the
 * server is up. Any other error is thrown at once.
 */
export async function untilReachable<T>(connect: () => Promise<T>, patienceMs: number): Promise<T> {
  const deadline = Date.now() + patienceMs;
  for (let wait = 1000; ; wait = Math.min(wait * 2, 15_000)) {
    try {
      return await connect();
    } catch (err) {
      if (!(err instanceof UnreachableError) || Date.now() + wait > deadline) throw err;
      console.error(`tju: ${err.message}; trying again in ${wait / 1000}s`);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
