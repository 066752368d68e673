import { InvalidArgumentError } from 'commander';
import { parseDuration } from '../config';

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
