import type { Logger as TemporalLogger, LogLevel, LogMetadata } from '@temporalio/common';
import pino from 'pino';

/** tju's structured log: one JSON line per event on stderr; TJU_LOG_LEVEL sets the level (default warn). */
export const logger = pino({ level: process.env.TJU_LOG_LEVEL ?? 'warn', base: undefined }, pino.destination(2));

// Temporal's own metadata that helps nobody reading a log line.
const DROPPED = new Set(['taskToken', 'sdkComponent']);

function plain(meta: LogMetadata = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta)) {
    if (DROPPED.has(key)) continue;
    // Errors from the workflow sandbox arrive as plain objects, not instances of this realm's Error.
    if (value && typeof value === 'object' && 'message' in value) {
      const typed = value as { type?: string; name?: string; message: string };
      out[key] = { type: typed.type ?? typed.name, message: typed.message };
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** Temporal's worker logs, as tju log lines; its WARN becomes pino's warn, and so on. */
export const temporalLogger: TemporalLogger = {
  log: (level: LogLevel, message: string, meta?: LogMetadata) => {
    const method = level === 'TRACE' ? 'trace' : (level.toLowerCase() as 'debug' | 'info' | 'warn' | 'error');
    logger[method](plain(meta), message);
  },
  trace: (message, meta) => logger.trace(plain(meta), message),
  debug: (message, meta) => logger.debug(plain(meta), message),
  info: (message, meta) => logger.info(plain(meta), message),
  warn: (message, meta) => logger.warn(plain(meta), message),
  error: (message, meta) => logger.error(plain(meta), message),
};
