// Who may press the buttons. Without a token the dashboard is read-only. With one, an operator signs in once
// (token and name) and gets a session cookie (HttpOnly, SameSite=Strict) signed with the token; every form
// carries a CSRF token derived from it, and the server also checks Origin / Sec-Fetch-Site (hono/csrf).
// Scripts and tools send `Authorization: Bearer <token>` instead, which no browser adds on its own.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';

export const SESSION_COOKIE = 'tju_dashboard';

const sign = (token: string, what: string) => createHmac('sha256', token).update(what).digest('base64url');

const same = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

export class DashboardAuth {
  constructor(
    private readonly token: string | undefined,
    /** A header a trusted proxy in front sets to the signed-in user (X-Forwarded-User); it names the actor. */
    private readonly userHeader?: string,
  ) {}

  get readOnly(): boolean {
    return !this.token;
  }

  tokenMatches(given: string): boolean {
    return !!this.token && same(given, this.token);
  }

  /** The cookie value for an operator who signed in with the token under this name. */
  session(name: string): string {
    const encoded = Buffer.from(name, 'utf8').toString('base64url');
    return `${encoded}.${sign(this.token!, `session:${encoded}`)}`;
  }

  /** The form field every mutating form carries. */
  csrf(): string {
    return this.token ? sign(this.token, 'csrf') : '';
  }

  /** The operator's name from a valid session cookie, or undefined. */
  private sessionName(c: Context): string | undefined {
    const value = getCookie(c, SESSION_COOKIE);
    if (!value || !this.token) return undefined;
    const [encoded, mac] = value.split('.');
    if (!encoded || !mac || !same(mac, sign(this.token, `session:${encoded}`))) return undefined;
    return Buffer.from(encoded, 'base64url').toString('utf8');
  }

  private bearer(c: Context): boolean {
    const header = c.req.header('authorization') ?? '';
    return header.startsWith('Bearer ') && this.tokenMatches(header.slice('Bearer '.length));
  }

  /** Signed in (a session or the bearer token): whether buttons work for this request. */
  signedIn(c: Context): boolean {
    return !this.readOnly && (this.bearer(c) || this.sessionName(c) !== undefined);
  }

  /**
   * Whether a mutating request may go on: a bearer token, or a session whose form carries the CSRF token.
   * Undefined when it may; else why not.
   */
  refuse(c: Context, form: Record<string, unknown>): string | undefined {
    if (this.readOnly) return 'this dashboard is read-only: start it with TJU_DASHBOARD_TOKEN set to enable its buttons';
    if (this.bearer(c)) return undefined;
    if (this.sessionName(c) === undefined) return 'sign in first';
    const given = typeof form._csrf === 'string' ? form._csrf : '';
    if (!same(given, this.csrf())) return 'the form is stale or came from another site (CSRF token missing or wrong)';
    return undefined;
  }

  /** Who the run history records as having done it. */
  actor(c: Context, remote?: string): string {
    const proxied = this.userHeader ? c.req.header(this.userHeader) : undefined;
    const name = proxied ?? this.sessionName(c) ?? (this.bearer(c) ? 'api' : 'unknown');
    return `dashboard:${name.slice(0, 100)}${remote ? `@${remote}` : ''}`;
  }
}
