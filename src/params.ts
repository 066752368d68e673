import type { Batch } from './definitions';
import { UserError } from './errors';

export interface ResolvedRun {
  batch: Batch;
  params: Record<string, unknown>;
  runKey: string;
}

/** Validates a run's params against the batch's schema; a bad value is a one-line UserError. */
export function resolveRun(batch: Batch, rawParams: Record<string, unknown> = {}): ResolvedRun {
  const parsed = batch.params.strict().safeParse(rawParams);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = issue.path.join('.') || (issue as { keys?: string[] }).keys?.join(', ') || 'params';
    const got = issue.path.length ? ` (got ${JSON.stringify(rawParams[String(issue.path[0])])})` : '';
    throw new UserError(`${batch.name}: ${name}: ${issue.message}${got}`);
  }
  const params = parsed.data as Record<string, unknown>;
  return { batch, params, runKey: batch.runKey(params) };
}
