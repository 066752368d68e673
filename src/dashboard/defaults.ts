// The dashboard's defaults, apart from its code, so the CLI can name them without loading the dashboard.

/** A session ends after this long without a request... */
export const DEFAULT_SESSION_IDLE_MS = 60 * 60_000;
/** ...and this long after sign-in regardless. */
export const DEFAULT_SESSION_MAX_MS = 12 * 60 * 60_000;
/** The longest any dashboard query may run. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 10_000;
/** The names a loopback address answers to: what a dashboard answers to unless told more. */
export const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];
