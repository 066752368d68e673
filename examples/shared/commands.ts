import type { Pool } from 'pg';
import { createPool, migrate, UserError, type CliOptions } from 'tju';

type Extend = NonNullable<CliOptions['extend']>;

/** `setup`: tju's schema (its migrations), then the example's own tables. */
export function addSetupCommand(
  program: Parameters<Extend>[0],
  app: Parameters<Extend>[1],
  tables: string,
  applySchema: (pool: Pool) => Promise<void>,
): void {
  program
    .command('setup')
    .description(`create or upgrade tju's schema and ${tables}`)
    .action(async () => {
      const { databaseUrl, schema, connectTimeout } = app.config;
      await migrate(databaseUrl, { schema, connectTimeout });
      const pool = createPool(databaseUrl, 1);
      try {
        await applySchema(pool);
      } finally {
        await pool.end();
      }
      console.log(`tju schema and ${tables} are up to date`);
    });
}

/** A demo's count flag (`--orders 300`): a positive whole number, else a one-line error naming the flag. */
export function demoCount(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UserError(`${flag}: expected a positive whole number (got ${value})`);
  return n;
}
