import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { CONFIG_FILES } from '../../appConfig';
import { UserError } from '../../errors';
import type { CliApp } from '../app';
import { addToIndex, batchFiles, configFile, indexFile, migrationFile } from '../templates';

const BATCH_NAME = /^([a-z][a-z0-9-]*)\.([a-z][a-z0-9-]*)$/;

/** `tju init` and `tju make:batch`: the files of a new app's tju set-up, and of a new batch. */
export function registerScaffold(program: Command, _app: CliApp): void {
  program
    .command('init')
    .description("write tju.config.ts, batches/index.ts, an example batch and its table's migration into this app")
    .action(() => {
      const existing = CONFIG_FILES.find((file) => fs.existsSync(file));
      if (existing) throw new UserError(`${existing} exists already: tju is set up here`);
      const files = {
        'tju.config.ts': configFile(),
        'batches/index.ts': addToIndex(indexFile(), 'example', 'hello'),
        ...prefixed('batches/example/hello', batchFiles('example', 'hello')),
        'migrations/001_example_hello.sql': migrationFile('example', 'hello'),
      };
      write(files);
      console.log(
        'Next: apply migrations/001_example_hello.sql, then `npx tju migrate`, `npx tju worker` and `npx tju trigger example.hello --wait`.',
      );
    });

  program
    .command('make:batch <name>')
    .description(
      'write trigger.ts, unit.ts, index.ts, a test and a table migration for a new batch <domain>.<name>, and list it in batches/index.ts',
    )
    .action((name: string) => {
      const match = BATCH_NAME.exec(name);
      if (!match)
        throw new UserError(`${name}: a batch name is <domain>.<name>, lower-case words joined by "-" (e.g. billing.send-reminders)`);
      const [, domain, batch] = match;
      const index = path.join('batches', 'index.ts');
      if (!fs.existsSync(index)) throw new UserError(`no ${index} here: run \`tju init\` first`);
      const before = fs.readFileSync(index, 'utf8');
      const after = addToIndex(before, domain, batch);
      if (after === before) throw new UserError(`${index} has no \`export const batches: Batch[] = [ … ];\` list to add ${name} to`);
      write({
        ...prefixed(`batches/${domain}/${batch}`, batchFiles(domain, batch)),
        [nextMigration(`${domain}_${batch}`)]: migrationFile(domain, batch),
      });
      fs.writeFileSync(index, after);
      console.log(`listed ${name} in ${index}`);
    });
}

/** `migrations/NNN_<name>.sql`, numbered after the app's existing ones. */
function nextMigration(name: string): string {
  const existing = fs.existsSync('migrations') ? fs.readdirSync('migrations').filter((file) => file.endsWith('.sql')) : [];
  const last = Math.max(0, ...existing.map((file) => Number.parseInt(file, 10) || 0));
  return `migrations/${String(last + 1).padStart(3, '0')}_${name.replace(/-/g, '_')}.sql`;
}

const prefixed = (dir: string, files: Record<string, string>) =>
  Object.fromEntries(Object.entries(files).map(([file, text]) => [`${dir}/${file}`, text]));

/** Writes every file, or none when one of them exists already. */
function write(files: Record<string, string>): void {
  const taken = Object.keys(files).find((file) => fs.existsSync(file));
  if (taken) throw new UserError(`${taken} exists already; nothing written`);
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    console.log(`wrote ${file}`);
  }
}
