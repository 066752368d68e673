import { createHash, randomBytes } from 'node:crypto';
import type { Db } from './types';
import { tjuTables } from './schema';

/** An operator's signed-in session, as a request finds it. */
export interface DashboardSession {
  name: string;
  /** The CSRF token bound to this session: every form it posts carries it. */
  csrf: string;
}

/** How long a session lives: ended after `idleMs` without a request, and `absoluteMs` after sign-in regardless. */
export interface SessionTimeouts {
  idleMs: number;
  absoluteMs: number;
}

// The cookie carries the ID; the table only its hash, so a read of the table signs nobody in.
const hashOf = (id: string) => createHash('sha256').update(id).digest();

/** Starts a session; resolves with the ID for the cookie. Sessions past their absolute timeout go with it. */
export async function createSession(
  db: Db,
  { name, address, absoluteMs }: { name: string; address?: string; absoluteMs: number },
  schema?: string,
): Promise<string> {
  const id = randomBytes(32).toString('base64url');
  const t = tjuTables(schema);
  await db.query(`INSERT INTO ${t.dashboardSessions} (id_hash, name, csrf, address) VALUES ($1, $2, $3, $4)`, [
    hashOf(id),
    name,
    randomBytes(32).toString('base64url'),
    address ?? null,
  ]);
  await db.query(`DELETE FROM ${t.dashboardSessions} WHERE created_at < now() - make_interval(secs => $1 / 1000.0)`, [absoluteMs]);
  return id;
}

/** The live session of an ID (not revoked, idle or too old), marked seen now; undefined otherwise. */
export async function findSession(
  db: Db,
  id: string,
  { idleMs, absoluteMs }: SessionTimeouts,
  schema?: string,
): Promise<DashboardSession | undefined> {
  const { rows } = await db.query<DashboardSession>(
    `UPDATE ${tjuTables(schema).dashboardSessions} SET last_seen_at = now()
      WHERE id_hash = $1 AND revoked_at IS NULL
        AND last_seen_at > now() - make_interval(secs => $2 / 1000.0)
        AND created_at > now() - make_interval(secs => $3 / 1000.0)
      RETURNING name, csrf`,
    [hashOf(id), idleMs, absoluteMs],
  );
  return rows[0];
}

/** Ends a session at once, for every dashboard process that shares the database. */
export async function revokeSession(db: Db, id: string, schema?: string): Promise<void> {
  await db.query(`UPDATE ${tjuTables(schema).dashboardSessions} SET revoked_at = now() WHERE id_hash = $1 AND revoked_at IS NULL`, [
    hashOf(id),
  ]);
}
