import { InvalidArgumentError } from 'commander';
import { isTraceUrlTemplate, parseDuration, TRACE_URL_EXPECTED } from '../config';

/** Commander parser for a flag that takes a positive whole number. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

/** Commander parser for a flag that takes a duration like 30s, 15m, 12h. */
export function duration(value: string): string {
  if (parseDuration(value) === undefined) throw new InvalidArgumentError('expected a duration like 30s, 15m, 12h');
  return value;
}

/** Commander parser for a TCP port. */
export function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('expected a port number from 1 to 65535');
  return n;
}

/** Commander parser for a duration flag, as milliseconds. */
export function durationMs(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) throw new InvalidArgumentError('expected a duration like 30s, 15m, 12h');
  return ms;
}

/** Commander parser for a flag that may be given more than once: each value is added to the list. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Whether an address to listen on reaches this machine only. */
export const isLoopback = (host: string): boolean => /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\])$/i.test(host);

/** A trace URL template (`--trace-url`), checked as TJU_TRACE_URL is. */
export function traceUrlTemplate(value: string): string {
  if (!isTraceUrlTemplate(value)) throw new InvalidArgumentError(TRACE_URL_EXPECTED);
  return value;
}
