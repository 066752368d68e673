import type { Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import type { Batch } from '../batch';
import type { TjuClient } from '../temporal/client';
import { TjuSchedules } from '../temporal/schedules';
import { DashboardAuth } from './auth';
import { boundedPool } from '../db/pool';
import { DEFAULT_SESSION_IDLE_MS, DEFAULT_SESSION_MAX_MS, DEFAULT_STATEMENT_TIMEOUT_MS, LOOPBACK_HOSTS } from './defaults';
import type { SessionTimeouts } from '../db/dashboardSessions';
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
  /** A header a trusted proxy sets to the signed-in user, recorded as who pressed a button (from `trustedProxies` only). */
  userHeader?: string;
  /** Addresses of the proxies in front whose user header and X-Forwarded-Proto are believed. */
  trustedProxies?: readonly string[];
  /** Host names it answers to besides loopback's (localhost, 127.0.0.1, ::1): a guard against DNS rebinding. */
  allowedHosts?: readonly string[];
  /** A session ends after this long without a request (default 1 hour)... */
  sessionIdleMs?: number;
  /** ...and this long after sign-in regardless (default 12 hours). */
  sessionMaxMs?: number;
  /** The longest any of its queries may run (default 10 s): it reads through a pool of its own to `pool`'s database. */
  statementTimeoutMs?: number;
  /** Where the app mounts it, e.g. `/tju` (no trailing slash); default the root. */
  basePath?: string;
  /** Whether this process has the codec's keys (TJU_CODEC_KEYS). */
  codecKeys?: boolean;
  /**
   * Where a trace is shown, `{traceId}` standing for its ID (TJU_TRACE_URL), e.g.
   * `http://localhost:16686/trace/{traceId}` for Jaeger: runs and targets then link to their traces.
   */
  traceUrl?: string;
  /** Runs per page of the runs list. */
  pageSize?: number;
}

/** What every route of one dashboard shares: its options, where it is mounted, its auth and its clients. */
export interface Dashboard {
  options: DashboardOptions;
  base: string;
  auth: DashboardAuth;
  timeouts: SessionTimeouts;
  /** Ends its connections to PostgreSQL. */
  close(): Promise<void>;
  schedules: TjuSchedules;
  /** What every page shows around its content: who is signed in, the CSRF token, a flash message. */
  pageContext(c: Context): PageContext;
  /** Whether the request names a host this dashboard answers to (its Host header). */
  allowsHost(c: Context): boolean;
  /** An API route or a client that asks for JSON: errors answer as JSON too. */
  wantsJson(c: Context): boolean;
  /** The peer's address, when served by @hono/node-server. */
  remote(c: Context): string | undefined;
}

/** The dashboard's own connections: a page reads a few things at once; more would only queue in PostgreSQL. */
const DASHBOARD_CONNECTIONS = 5;

export function dashboardOf(appOptions: DashboardOptions): Dashboard {
  const pool = boundedPool(appOptions.pool, {
    max: DASHBOARD_CONNECTIONS,
    statementTimeoutMs: appOptions.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
  });
  const options = { ...appOptions, pool };
  const base = options.basePath ?? '';
  const timeouts = { idleMs: options.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS, absoluteMs: options.sessionMaxMs ?? DEFAULT_SESSION_MAX_MS };
  const auth = new DashboardAuth({
    token: options.token,
    pool: options.pool,
    schema: options.schema,
    timeouts,
    userHeader: options.userHeader,
    trustedProxies: options.trustedProxies ?? [],
  });
  const hosts = new Set([...LOOPBACK_HOSTS, ...(options.allowedHosts ?? [])].map((host) => host.toLowerCase()));
  return {
    options,
    base,
    auth,
    timeouts,
    close: () => pool.end(),
    schedules: new TjuSchedules(options.client, options.batches, options.taskQueue),
    pageContext: (c) => ({
      base,
      readOnly: auth.readOnly,
      signedIn: auth.signedIn(c),
      csrf: auth.csrf(c),
      codec: options.codecKeys ? 'keys' : 'none',
      ...(options.traceUrl ? { traceUrl: options.traceUrl } : {}),
      flash: c.req.query('done')?.slice(0, 500),
      error: c.req.query('error')?.slice(0, 500),
    }),
    allowsHost: (c) => hosts.has(new URL(c.req.url).hostname.toLowerCase()),
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
