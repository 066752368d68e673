import type { Command } from 'commander';
import type { CliApp } from '../app';
import { migrate } from '../../db/migrate';
import { describeUrl } from '../../db/pool';

export function registerMigrate(program: Command, app: CliApp): void {
  program
    .command('migrate')
    .description("create the database if missing and bring tju's own schema up to date (never the app's tables)")
    .action(async () => {
      const { databaseUrl, schema } = app.config;
      const applied = await migrate(databaseUrl, { schema });
      console.log(
        applied.length ? `applied ${applied.join(', ')} to ${describeUrl(databaseUrl)}` : `${describeUrl(databaseUrl)} is up to date`,
      );
    });
}
