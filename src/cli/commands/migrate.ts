import type { Command } from 'commander';
import { loadConfig } from '../../config';
import { migrate } from '../../db/migrate';
import { describeUrl } from '../../db/pool';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('create the database if missing and apply pending migrations')
    .action(async () => {
      const { databaseUrl } = loadConfig();
      const applied = await migrate(databaseUrl);
      console.log(
        applied.length
          ? `applied ${applied.join(', ')} to ${describeUrl(databaseUrl)}`
          : `${describeUrl(databaseUrl)} is up to date`,
      );
    });
}
