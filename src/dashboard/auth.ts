// Who may read and who may press the buttons. Without a token the dashboard is read-only and listens on loopback
// only. With one, every page and API call needs a session or the token: an operator signs in once (token and
// name) and gets a random session ID in a cookie (HttpOnly, SameSite=Strict, Secure over TLS), kept in PostgreSQL
// as a hash with its CSRF token, ended when idle, old or signed out. Scripts send `Authorization: Bearer <token>`,
// which no browser adds on its own.
import { timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import type { Pool } from 'pg';
import { findSession, type DashboardSession, type SessionTimeouts } from '../db/dashboardSessions';

export const SESSION_COOKIE = 'tju_dashboard';

const same = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** What one request proved about who sent it: resolved once, before any route. */
export interface RequestAuth {
  session?: DashboardSession;
  /** The session cookie's ID, when it names a live session: what sign-out revokes. */
  sessionId?: string;
  bearer: boolean;
}

export interface AuthOptions {
  token?: string;
  pool: Pool;
  schema?: string;
  timeouts: SessionTimeouts;
  /** A header a trusted proxy sets to the signed-in user; honoured only from `trustedProxies`. */
  userHeader?: string;
  /** Addresses of proxies in front whose X-Forwarded-Proto and user header are believed. */
  trustedProxies: readonly string[];
}

export class DashboardAuth {
  private readonly requests = new WeakMap<Request, RequestAuth>();

  constructor(private readonly options: AuthOptions) {}

  get readOnly(): boolean {
    return !this.options.token;
  }

  tokenMatches(given: string): boolean {
    return !!this.options.token && same(given, this.options.token);
  }

  /** Reads the request's session cookie and bearer token; every later question about it is answered from this. */
  async resolve(c: Context): Promise<RequestAuth> {
    const resolved: RequestAuth = { bearer: this.bearer(c) };
    const id = getCookie(c, SESSION_COOKIE);
    if (id && !this.readOnly && /^[\w-]{20,100}$/.test(id)) {
      const { pool, timeouts, schema } = this.options;
      resolved.session = await findSession(pool, id, timeouts, schema);
      if (resolved.session) resolved.sessionId = id;
    }
    this.requests.set(c.req.raw, resolved);
    return resolved;
  }

  of(c: Context): RequestAuth {
    return this.requests.get(c.req.raw) ?? { bearer: false };
  }

  private bearer(c: Context): boolean {
    const header = c.req.header('authorization') ?? '';
    return header.startsWith('Bearer ') && this.tokenMatches(header.slice('Bearer '.length));
  }

  /** Signed in (a session or the bearer token). */
  signedIn(c: Context): boolean {
    const { session, bearer } = this.of(c);
    return !this.readOnly && (bearer || session !== undefined);
  }

  /** Whether this request may read: always on a read-only (loopback) dashboard, else only signed in. */
  mayRead(c: Context): boolean {
    return this.readOnly || this.signedIn(c);
  }

  /** The CSRF token of the request's session, for its forms. */
  csrf(c: Context): string {
    return this.of(c).session?.csrf ?? '';
  }

  /**
   * Whether a mutating request may go on, asked before its body is read: signed in at all. Undefined when it may;
   * else why not.
   */
  refuseBeforeBody(c: Context): string | undefined {
    if (this.readOnly) return 'this dashboard is read-only: start it with TJU_DASHBOARD_TOKEN set to enable its buttons';
    if (!this.signedIn(c)) return 'sign in first';
    return undefined;
  }

  /** Then the form: a session's post must carry that session's CSRF token. */
  refuseForm(c: Context, form: Record<string, unknown>): string | undefined {
    const { session, bearer } = this.of(c);
    if (bearer) return undefined;
    const given = typeof form._csrf === 'string' ? form._csrf : '';
    if (!session || !same(given, session.csrf)) return 'the form is stale or came from another site (CSRF token missing or wrong)';
    return undefined;
  }

  private fromTrustedProxy(remote?: string): boolean {
    return remote !== undefined && this.options.trustedProxies.includes(remote);
  }

  /** Whether the browser reached us over TLS: directly, or through a trusted proxy that says so. */
  secure(c: Context, remote?: string): boolean {
    if (new URL(c.req.url).protocol === 'https:') return true;
    return this.fromTrustedProxy(remote) && c.req.header('x-forwarded-proto') === 'https';
  }

  /** Who the run history records as having done it: a trusted proxy's user header, else the session's name. */
  actor(c: Context, remote?: string): string {
    const { userHeader } = this.options;
    const proxied = userHeader && this.fromTrustedProxy(remote) ? c.req.header(userHeader) : undefined;
    const { session, bearer } = this.of(c);
    const name = proxied ?? session?.name ?? (bearer ? 'api' : 'unknown');
    return `dashboard:${name.slice(0, 100)}${remote ? `@${remote}` : ''}`;
  }
}
