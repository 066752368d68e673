// Heavier packages, loaded on first use: a CLI command that never connects a worker or a database, or a config
// file that imports `tju` for defineBatch, does not pay for them (together most of a cold start).
/* eslint-disable @typescript-eslint/no-require-imports */
import type * as Worker from '@temporalio/worker';
import type * as Proto from '@temporalio/proto';
import type * as Pg from 'pg';

let worker: typeof Worker | undefined;
let proto: typeof Proto | undefined;
let pg: typeof Pg | undefined;

/** `@temporalio/worker`: the runtime, native connections, bundling. */
export const workerSdk = (): typeof Worker => (worker ??= require('@temporalio/worker'));

/** `pg`: PostgreSQL's client and pool. */
export const pgModule = (): typeof Pg => (pg ??= require('pg'));

/** `@temporalio/proto`: Temporal's API messages and enums. */
export const protos = (): (typeof Proto)['temporal'] => (proto ??= require('@temporalio/proto')).temporal;

/** The client's "no such workflow", by name: checking it needs no SDK class (nor the same copy of the SDK). */
export const isNotFound = (err: unknown): boolean => (err as Error | undefined)?.name === 'WorkflowNotFoundError';

/** A start refused because a workflow of that ID exists (and its reuse policy says no), by name. */
export const isAlreadyStarted = (err: unknown): boolean => (err as Error | undefined)?.name === 'WorkflowExecutionAlreadyStartedError';
