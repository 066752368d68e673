/**
 * The wire contracts: what crosses between tju's processes and is stored in Temporal's histories and tju's
 * tables. One leaf module, safe in the workflow sandbox (no Node API, no `pg`), imported by the workflows, the
 * activities, the database layer, the client, the CLI and the dashboard alike.
 *
 * Glossary:
 * - run: one batch for one run key (`billing.issue-invoices` for `2026-11-01`); its trigger is a workflow.
 * - target: one row the batch's target query selects, by its key; a run processes each once.
 * - job: what the trigger dispatches for some targets: a child workflow per target or per chunk, or a bulk
 *   chunk's activity.
 * - chunk: consecutive targets of one page, run by one job; staged in PostgreSQL so it crosses no history.
 * - step: one unit of a batch's chain, for one target; a batch of one unit is a chain of one step.
 * - ledger: a row per (run, target, step) that committed; the idempotency key that keeps each to one effect.
 * - failure record: a target whose step gave up, open until a later attempt commits it or it is cleared.
 * - engine: the generation of these shapes; a worker refuses workflows of another (workflows/engine.ts).
 *
 * types.ts: inputs and results of the workflows and activities. ids.ts: deterministic workflow IDs and search
 * attributes. retry.ts: retry policies with Temporal's semantics. chain.ts: a job's chain and its counts.
 * details.ts: what travels beside a failure or heartbeat. slices.ts: pages into chunks. controls.ts: the
 * trigger's signals and query. limits.ts: bounds the plan and the workflows share. metrics.ts: the workflow
 * metric sink's shape.
 */
export * from './chain';
export * from './controls';
export * from './details';
export * from './ids';
export * from './limits';
export * from './retry';
export * from './slices';
export * from './types';
export type * from './metrics';
