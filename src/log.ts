import type { Logger as TemporalLogger, LogLevel, LogMetadata } from '@temporalio/common';
import pino from 'pino';
import { traceIds } from './telemetry/tracing';

/**
 * tju's structured log: one JSON line per event on stderr; TJU_LOG_LEVEL sets the level (default warn). With
 * tracing on, a line written inside a span carries its `trace_id` and `span_id`.
 */
export const logger = pino({ level: process.env.TJU_LOG_LEVEL ?? 'warn', base: undefined, mixin: traceIds }, pino.destination(2));

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

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/** What the SDK warns of that is tju's design: a rate-limited unit's queue has an activity-only worker. */
const EXPECTED = new Set(['No workflows registered, not polling for workflow tasks']);

/** Skips building the line when its level is off: the SDK logs every activity and workflow at debug. */
function write(level: Level, message: string, meta?: LogMetadata): void {
  if (logger.isLevelEnabled(level) && !EXPECTED.has(message)) logger[level](plain(meta), message);
}

/** Temporal's worker logs, as tju log lines; its WARN becomes pino's warn, and so on. */
export const temporalLogger: TemporalLogger = {
  log: (level: LogLevel, message: string, meta?: LogMetadata) => write(level.toLowerCase() as Level, message, meta),
  trace: (message, meta) => write('trace', message, meta),
  debug: (message, meta) => write('debug', message, meta),
  info: (message, meta) => write('info', message, meta),
  warn: (message, meta) => write('warn', message, meta),
  error: (message, meta) => write('error', message, meta),
};
