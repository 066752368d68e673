import { msToNumber } from '@temporalio/common/lib/time';
import type { Pool } from 'pg';
import { countFailure, describeBreaker, forgetFailures, readBreaker, settleProbe, takeProbe } from '../src/db/breakers';
import { BreakerOpenError, NonRetryableError } from '../src/errors';
import type { BreakerSettings } from '../src/unit';
import { logger } from '../src/log';
import { activityMeter } from '../src/temporal/metrics';

/** A closed breaker is read again at most this often per unit and process: an open one is seen within it. */
const CLOSED_FOR_MS = 1000;
/** How soon a refused attempt asks again while another target probes. */
const PROBING_WAIT_MS = 1000;

/** An attempt let through: as usual, or as the one probe of a breaker past its cool-off. */
export interface Admission {
  unit: string;
  settings: BreakerSettings;
  probe: boolean;
}

/**
 * The units' circuit breakers, as one worker process sees them: each attempt of a unit that has one is admitted
 * or refused here (BreakerOpenError: its scheduler waits and asks again, spending none of the target's
 * attempts), and its retryable failures counted, in PostgreSQL where every worker sees them.
 */
export class BreakerGate {
  private readonly closedUntil = new Map<string, number>();
  /** Units with failures counted in their window, as far as this process knows: its next success resets them. */
  private readonly failing = new Set<string>();
  /** Retryable failures this process has seen: a read that began before one must not cache the breaker closed. */
  private failuresSeen = 0;

  constructor(
    private readonly pool: Pool,
    private readonly schema?: string,
  ) {}

  async admit(unit: string, settings: BreakerSettings, timeoutMs: number): Promise<Admission> {
    const admitted = { unit, settings, probe: false };
    if ((this.closedUntil.get(unit) ?? 0) > Date.now()) return admitted;
    const coolOffMs = msToNumber(settings.coolOff);
    const seen = this.failuresSeen;
    const row = await readBreaker(this.pool, unit, coolOffMs, this.schema);
    if (!row || row.state === 'closed') {
      if (seen === this.failuresSeen) this.closedUntil.set(unit, Date.now() + CLOSED_FOR_MS);
      if (row?.failures) this.failing.add(unit);
      return admitted;
    }
    this.closedUntil.delete(unit);
    if (row.state === 'open' && (row.coolOffLeftMs ?? 0) > 0) throw refused(describeBreaker(row), row.coolOffLeftMs!);
    // Past its cool-off (or a probe that outlived its unit's timeout): one worker takes the probe.
    if (await takeProbe(this.pool, unit, { coolOffMs, probeMs: timeoutMs + 5000 }, this.schema)) return { ...admitted, probe: true };
    throw refused(describeBreaker({ ...row, state: 'half-open' }), PROBING_WAIT_MS);
  }

  /**
   * After the attempt: a probe settles the breaker; a retryable failure counts (a probe's reopens it instead);
   * a success resets the count.
   */
  async settle(admission: Admission, error?: unknown): Promise<void> {
    const { unit, settings, probe } = admission;
    // The target's own refusal (NonRetryableError, by name: an app may hold another copy of tju) says nothing of the service.
    const failed = error !== undefined && (error as Error)?.name !== NonRetryableError.name;
    if (probe) {
      await settleProbe(this.pool, unit, !failed, this.schema);
      if (failed) {
        logger.warn({ unit }, 'circuit breaker probe failed: open again');
        // The breaker's test, not the target's attempt: it waits another cool-off like every other.
        throw refused(`breaker open: ${unit}, its probe failed (${(error as Error).message})`, msToNumber(settings.coolOff));
      }
      return;
    }
    if (!failed) {
      // Laravel's ThrottlesExceptions clears its count on success too: a busy service that answers most calls
      // never opens the breaker; one that answers none does.
      if (this.failing.delete(unit)) await forgetFailures(this.pool, unit, this.schema);
      return;
    }
    this.failing.add(unit);
    this.distrustClosed(unit);
    const opened = await countFailure(
      this.pool,
      unit,
      { threshold: settings.failures, withinMs: msToNumber(settings.within) },
      this.schema,
    );
    this.distrustClosed(unit);
    if (opened) {
      activityMeter({ unit }).createCounter('tju_breaker_opened_total', '', 'Times a circuit breaker opened, by this worker').add(1);
      logger.warn({ unit, failures: settings.failures, within: settings.within }, 'circuit breaker opened');
    }
  }

  /**
   * A failing service may have opened the breaker, here or in another worker: the next attempt reads it again,
   * and a read in flight across the failure does not cache it closed.
   */
  private distrustClosed(unit: string) {
    this.failuresSeen++;
    this.closedUntil.delete(unit);
  }
}

const refused = (why: string, retryAfterMs: number) =>
  new BreakerOpenError(`${why}; trying again in ${Math.ceil(retryAfterMs / 1000)} s`, retryAfterMs);
