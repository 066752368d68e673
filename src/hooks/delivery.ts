import { workerSdk } from '../util/lazy';
import { msToNumber } from '@temporalio/common/lib/time';
import type { Pool } from 'pg';
import type { Batch } from '../batch';
import { nextRetryDelay } from '../contracts/retry';
import { logger } from '../log';
import { DEFAULT_HOOK_RETRY, type FailureEvent, type FailureHook, type HookRetry, type RunCompleted } from './index';
import { claimHookEvents, markDelivered, markFailed, type HookEvent } from './outbox';

export interface HookDeliveryOptions {
  pool: Pool;
  batches: readonly Batch[];
  schema?: string;
  /** The app's failure hook, for batches that declare none. */
  onFailure?: FailureHook;
  /** The app's hook retry policy, for batches that declare none. */
  hookRetry?: HookRetry;
  /** How often to look for due events when none was announced. Default 1s. */
  pollMs?: number;
}

export interface HookDelivery {
  /** Looks for due events now (after a run's activity queued one). */
  wake(): void;
  /** Stops claiming; resolves once the calls in progress have ended. */
  stop(): Promise<void>;
}

/** Events claimed per round; their hooks are called side by side. */
const BATCH = 10;

/** The retry policy of a batch's hooks: its own, else the app's, over the defaults. */
export function hookRetryOf(batch: Pick<Batch, 'hookRetry'>, app?: HookRetry): Required<HookRetry> {
  return { ...DEFAULT_HOOK_RETRY, ...app, ...batch.hookRetry };
}

/**
 * Calls the hooks that runs queued (src/hooks/outbox.ts), in every worker, apart from the runs: claimed with
 * SKIP LOCKED, so each call is made by one worker at a time; retried with backoff up to the hook's budget,
 * then recorded as given up. Events of batches this worker does not define wait for one that does.
 */
export function startHookDelivery(options: HookDeliveryOptions): HookDelivery {
  const byName = new Map(options.batches.map((batch) => [batch.name, batch]));
  const names = [...byName.keys()];
  const pollMs = options.pollMs ?? 1000;
  const meter = workerSdk().Runtime.instance().metricMeter;
  const delivered = meter.createCounter('tju_hooks', '', 'Hook calls by batch, hook and outcome (delivered, retried, gave_up)');
  let stopping = false;
  let wake: () => void = () => undefined;
  // A claim outlives the slowest call it allows, so no second worker calls the hook meanwhile.
  const leaseMs = Math.max(0, ...options.batches.map((b) => msToNumber(hookRetryOf(b, options.hookRetry).timeout))) + 30_000;

  const call = async (event: HookEvent): Promise<void> => {
    const batch = byName.get(event.batch)!;
    const policy = hookRetryOf(batch, options.hookRetry);
    const tags = { batch: event.batch, hook: event.hook };
    try {
      const hook = event.hook === 'onComplete' ? batch.onComplete : (batch.onFailure ?? options.onFailure);
      if (!hook) throw new Error(`${event.batch} no longer declares ${event.hook}`);
      await withTimeout(
        event.hook === 'onComplete'
          ? (hook as NonNullable<Batch['onComplete']>)(event.event as RunCompleted, { db: options.pool })
          : (hook as FailureHook)(event.event as FailureEvent),
        msToNumber(policy.timeout),
      );
      await markDelivered(options.pool, event.id, options.schema);
      delivered.add(1, { ...tags, outcome: 'delivered' });
    } catch (err) {
      const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      // The units' retry policy code, with the budget the event was queued with: one way to back off.
      const type = err instanceof Error ? err.name : 'Error';
      const wait = nextRetryDelay({ ...policy, maximumAttempts: event.maxAttempts }, event.attempts, { type });
      const outcome = await markFailed(options.pool, event, error, wait, options.schema);
      delivered.add(1, { ...tags, outcome: outcome === 'gave-up' ? 'gave_up' : 'retried' });
      const line = { ...tags, attempt: event.attempts, of: event.maxAttempts, error };
      if (outcome === 'gave-up') logger.error(line, 'hook gave up');
      else logger.warn(line, 'hook failed; it is called again later');
    }
  };

  const loop = (async () => {
    while (!stopping && names.length) {
      let claimed: HookEvent[] = [];
      try {
        claimed = await claimHookEvents(options.pool, names, BATCH, leaseMs, options.schema);
        await Promise.all(claimed.map(call));
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'hook delivery could not reach PostgreSQL; trying again');
      }
      if (claimed.length === BATCH || stopping) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  })();

  return {
    wake: () => wake(),
    async stop() {
      stopping = true;
      wake();
      await loop;
    },
  };
}

function withTimeout<T>(work: Promise<T> | T, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the hook did not return within ${ms} ms`)), ms);
  });
  return Promise.race([Promise.resolve(work), timeout]).finally(() => clearTimeout(timer));
}
