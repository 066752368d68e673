import type { Command } from 'commander';
import type { CliApp } from '../app';
import { migrate, migrateApp } from '../../db/migrate';
import { describeUrl } from '../../db/pool';

export function registerMigrate(program: Command, app: CliApp): void {
  program
    .command('migrate')
    .description(
      "create the database if missing, bring tju's own schema up to date, then apply the app's migrations (its config's `migrations`); TJU_CONNECT_TIMEOUT waits for PostgreSQL",
    )
    .action(async () => {
      const { databaseUrl, schema, connectTimeout } = app.config;
      const applied = await migrate(databaseUrl, { schema, connectTimeout });
      // The app's own tables, when its config keeps their migrations in a folder: after tju's, the same way.
      if (app.migrations) applied.push(...(await migrateApp(databaseUrl, app.migrations, { schema })));
      console.log(
        applied.length ? `applied ${applied.join(', ')} to ${describeUrl(databaseUrl)}` : `${describeUrl(databaseUrl)} is up to date`,
      );
    });
}
