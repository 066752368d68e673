// The spans of one unit attempt: the attempt, with tju's attributes, and each SQL statement the unit sends.
import type { Db } from '../db/types';
import { inSpan } from './tracing';

export interface UnitAttempt {
  batch: string;
  runKey: string;
  unit: string;
  targetKey: string;
  attempt: number;
}

/** One unit attempt as a span: `tju.unit <name>`, its outcome (or its error, type and failure group) set at the end. */
export function inUnitSpan<T extends string>({ batch, runKey, unit, targetKey, attempt }: UnitAttempt, work: () => Promise<T>): Promise<T> {
  const attributes = { 'tju.batch': batch, 'tju.run_key': runKey, 'tju.unit': unit, 'tju.target_key': targetKey, 'tju.attempt': attempt };
  return inSpan(`tju.unit ${unit}`, attributes, async (span) => {
    try {
      const outcome = await work();
      span.setAttribute('tju.outcome', outcome);
      return outcome;
    } catch (err) {
      const type = (err as { type?: string })?.type ?? (err as Error)?.name ?? 'Error';
      span.setAttributes({
        'tju.outcome': 'failed',
        'tju.error_type': type,
        'tju.error_group': errorGroupOf(type, (err as Error)?.message ?? ''),
      });
      throw err;
    }
  });
}

/**
 * A failure's group as `tju failures --groups` names it: `Type: message` with quoted values, UUIDs and anything
 * with a digit masked — the same masks as the failures table's `error_group` column (migration 0005).
 */
export function errorGroupOf(type: string, message: string): string {
  const masked = message
    .replace(/"[^"]*"|`[^`]*`/g, '"?"')
    .replace(/(^|[^\p{L}\p{N}])'[^']*'/gu, "$1'?'")
    .replace(/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/g, '?')
    .replace(/[\p{L}\p{N}_.-]*[0-9][\p{L}\p{N}_.-]*/gu, '?');
  return `${type}: ${masked}`.slice(0, 300);
}

/** The unit's transaction with a span per statement (`db.system`, `db.operation`, `db.statement`), as OpenTelemetry's database conventions name them. */
export function tracedDb(db: Db): Db {
  const query = (...args: unknown[]) => {
    const text = typeof args[0] === 'string' ? args[0] : ((args[0] as { text?: string })?.text ?? '');
    const operation = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? 'QUERY';
    return inSpan(operation, { 'db.system': 'postgresql', 'db.operation': operation, 'db.statement': text }, () =>
      (db.query as (...a: unknown[]) => Promise<unknown>)(...args),
    );
  };
  return { query } as unknown as Db;
}
