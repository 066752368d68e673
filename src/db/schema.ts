/** tju's tables live in a PostgreSQL schema of their own, `tju` unless an app configures another. */
export const DEFAULT_SCHEMA = 'tju';

/** A schema name as an SQL identifier, quoted. */
export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

export type TjuTables = ReturnType<typeof tablesIn>;

// Asked for on every ledger claim: made once per schema.
const tablesBySchema = new Map<string, TjuTables>();

/** The qualified names of tju's tables in `schema`. */
export function tjuTables(schema: string = DEFAULT_SCHEMA): TjuTables {
  let tables = tablesBySchema.get(schema);
  if (!tables) tablesBySchema.set(schema, (tables = tablesIn(schema)));
  return tables;
}

function tablesIn(schema: string) {
  const s = quoteIdent(schema);
  return Object.freeze({
    runs: `${s}.runs`,
    runHistory: `${s}.run_history`,
    ledger: `${s}.ledger`,
    failures: `${s}.failures`,
    hookEvents: `${s}.hook_events`,
    runActions: `${s}.run_actions`,
    stagedChunks: `${s}.staged_chunks`,
    fairQueue: `${s}.fair_queue`,
    dashboardSessions: `${s}.dashboard_sessions`,
    operatorEvents: `${s}.operator_events`,
    breakers: `${s}.breakers`,
    breakerEvents: `${s}.breaker_events`,
    migrations: `${s}.migrations`,
  });
}
