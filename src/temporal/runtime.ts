import { Runtime } from '@temporalio/worker';
import { temporalLogger } from '../log';

let installed = false;

/** Routes the Temporal runtime's logs through tju's structured logger. Once per process, before any worker. */
export function installRuntime(): void {
  if (installed) return;
  Runtime.install({ logger: temporalLogger });
  installed = true;
}
