import { Runtime } from '@temporalio/worker';
import { temporalLogger } from '../log';

let installed = false;

export interface RuntimeOptions {
  /** Serve Prometheus metrics on this port (all interfaces), `/metrics`: the SDK's and tju's. */
  metricsPort?: number;
}

/**
 * Routes the Temporal runtime's logs, the SDK core's native ones included, through tju's structured logger,
 * and exports metrics when asked. Once per process, before any worker or native connection: later calls are
 * no-ops, so the first caller's options stand.
 */
export function installRuntime({ metricsPort }: RuntimeOptions = {}): void {
  if (installed) return;
  Runtime.install({
    logger: temporalLogger,
    telemetryOptions: {
      logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
      ...(metricsPort !== undefined
        ? {
            metrics: {
              prometheus: {
                bindAddress: `0.0.0.0:${metricsPort}`,
                countersTotalSuffix: true,
                // Unit durations span a fast insert to a slow external call.
                histogramBucketOverrides: { tju_unit_duration: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000] },
              },
            },
          }
        : {}),
    },
  });
  installed = true;
}
