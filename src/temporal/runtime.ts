import { Runtime } from '@temporalio/worker';
import { temporalLogger } from '../log';

let installed = false;

/**
 * Routes the Temporal runtime's logs, the SDK core's native ones included, through tju's structured logger.
 * Once per process, before any worker.
 */
export function installRuntime(): void {
  if (installed) return;
  Runtime.install({
    logger: temporalLogger,
    telemetryOptions: { logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} } },
  });
  installed = true;
}
