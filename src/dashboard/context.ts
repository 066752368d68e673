import type { Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import type { Batch } from '../batch';
import type { TjuClient } from '../temporal/client';
import { TjuSchedules } from '../temporal/schedules';
import { DashboardAuth } from './auth';
import type { PageContext } from './views/layout';

export interface DashboardOptions {
  pool: Pool;
  /** A client on the app's Temporal (with its batches, task queue and Web UI address). */
  tju: TjuClient;
  client: Client;
  batches: readonly Batch[];
  taskQueue: string;
  schema?: string;
  /** Enables the buttons (TJU_DASHBOARD_TOKEN); without it the dashboard is read-only. */
  token?: string;
  /** A header a trusted proxy sets to the signed-in user, recorded as who pressed a button. */
  userHeader?: string;
  /** Where the app mounts it, e.g. `/tju` (no trailing slash); default the root. */
  basePath?: string;
  /** Whether this process has the codec's keys (TJU_CODEC_KEYS). */
  codecKeys?: boolean;
  /** Runs per page of the runs list. */
  pageSize?: number;
}

/** What every route of one dashboard shares: its options, where it is mounted, its auth and its clients. */
export interface Dashboard {
  options: DashboardOptions;
  base: string;
  auth: DashboardAuth;
  schedules: TjuSchedules;
  /** What every page shows around its content: who is signed in, the CSRF token, a flash message. */
  pageContext(c: Context): PageContext;
  /** An API route or a client that asks for JSON: errors answer as JSON too. */
  wantsJson(c: Context): boolean;
  /** The peer's address, when served by @hono/node-server. */
  remote(c: Context): string | undefined;
}

export function dashboardOf(options: DashboardOptions): Dashboard {
  const base = options.basePath ?? '';
  const auth = new DashboardAuth(options.token, options.userHeader);
  return {
    options,
    base,
    auth,
    schedules: new TjuSchedules(options.client, options.batches, options.taskQueue),
    pageContext: (c) => ({
      base,
      readOnly: auth.readOnly,
      signedIn: auth.signedIn(c),
      csrf: auth.csrf(),
      codec: options.codecKeys ? 'keys' : 'none',
      flash: c.req.query('done')?.slice(0, 500),
      error: c.req.query('error')?.slice(0, 500),
    }),
    wantsJson: (c) => c.req.path.startsWith(`${base}/api/`) || (c.req.header('accept') ?? '').startsWith('application/json'),
    remote(c) {
      try {
        return getConnInfo(c).remote.address;
      } catch {
        return undefined; // not served by @hono/node-server
      }
    },
  };
}
