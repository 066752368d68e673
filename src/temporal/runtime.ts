import { workerSdk } from '../util/lazy';
import { UserError } from '../errors';
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
  try {
    install(metricsPort);
  } catch (err) {
    if (metricsPort !== undefined && /address already in use/i.test((err as Error).message)) {
      throw new UserError(`cannot serve metrics on port ${metricsPort}: the address is in use (--metrics-port, TJU_METRICS_PORT)`);
    }
    throw err;
  }
  installed = true;
}

function install(metricsPort: number | undefined): void {
  workerSdk().Runtime.install({
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
                histogramBucketOverrides: {
                  tju_unit_duration_seconds: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
                },
              },
            },
          }
        : {}),
    },
  });
}
