import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { appNameNear, CONFIG_FILES } from '../../appConfig';
import { UserError } from '../../errors';
import type { CliApp } from '../app';
import { addToIndex, batchConst, batchFiles, batchImport, configFile, indexFile, migrationFile } from '../templates';

const BATCH_NAME = /^([a-z][a-z0-9-]*)\.([a-z][a-z0-9-]*)$/;

/**
 * `tju init` and `tju make:batch`: the files of a new app's tju set-up, and of a new batch, in one app shape —
 * batches under `batches/<domain>/<name>/`, listed in `batches/index.ts`, their tables' migrations in
 * `migrations/`, which `tju migrate` applies.
 */
export function registerScaffold(program: Command, app: CliApp): void {
  program
    .command('init')
    .description("write tju.config.ts, batches/index.ts, an example batch and its table's migration into this app")
    .action(() => {
      const existing = CONFIG_FILES.find((file) => fs.existsSync(file));
      if (existing)
        throw new UserError(`${existing} exists already: tju is set up here (add a batch with \`npx tju make:batch <domain>.<name>\`)`);
      const files = {
        'tju.config.ts': configFile(appNameNear(process.cwd()) ?? path.basename(process.cwd())),
        'batches/index.ts': addToIndex(indexFile(), 'example', 'hello'),
        ...prefixed('batches/example/hello', batchFiles('example', 'hello')),
        'migrations/001_example_hello.sql': migrationFile('example', 'hello'),
      };
      write('.', files);
      console.log('Next: `npx tju migrate`, `npx tju worker`, then `npx tju trigger example.hello --wait`.');
    });

  program
    .command('make:batch <name>')
    .description(
      'write trigger.ts, unit.ts, index.ts, a test and a table migration for a new batch <domain>.<name>, and list it in batches/index.ts',
    )
    .action((name: string) => {
      const match = BATCH_NAME.exec(name);
      if (!match) {
        throw new UserError(`${name}: a batch name is <domain>.<name>, lower-case words joined by "-" (e.g. billing.send-reminders)`);
      }
      if (!app.configFile) throw new UserError('no tju.config.ts here or above: run `npx tju init` first');
      const [, domain, batch] = match;
      const root = app.root;
      const migrations = app.migrations ?? path.join(root, 'migrations');
      const migration = path.relative(root, path.join(migrations, nextMigration(migrations, `${domain}_${batch}`)));
      const files = { ...prefixed(`batches/${domain}/${batch}`, batchFiles(domain, batch)), [migration]: migrationFile(domain, batch) };
      const index = path.join(root, 'batches', 'index.ts');
      const listed = fs.existsSync(index) ? addToIndex(fs.readFileSync(index, 'utf8'), domain, batch) : undefined;
      write(root, files);
      if (listed && listed !== fs.readFileSync(index, 'utf8')) {
        fs.writeFileSync(index, listed);
        console.log(`listed ${name} in ${path.relative(process.cwd(), index)}`);
      } else {
        // An app that lists its batches its own way: say what to add, rather than edit its code blind.
        console.log(
          `add ${name} to your config's batches:\n  ${batchImport(domain, batch, './batches')}\n  batches: [..., ${batchConst(batch)}]`,
        );
      }
      if (!app.migrations)
        console.log(`apply ${migration} (or set \`migrations: './migrations'\` in the config, and \`npx tju migrate\` applies it)`);
    });
}

/** `NNN_<name>.sql`, numbered after the migrations already in `dir`. */
function nextMigration(dir: string, name: string): string {
  const existing = fs.existsSync(dir) ? fs.readdirSync(dir).filter((file) => file.endsWith('.sql')) : [];
  const last = Math.max(0, ...existing.map((file) => Number.parseInt(file, 10) || 0));
  return `${String(last + 1).padStart(3, '0')}_${name.replace(/-/g, '_')}.sql`;
}

const prefixed = (dir: string, files: Record<string, string>) =>
  Object.fromEntries(Object.entries(files).map(([file, text]) => [`${dir}/${file}`, text]));

/** Writes every file under `root`, or none when one of them exists already. */
function write(root: string, files: Record<string, string>): void {
  const taken = Object.keys(files).find((file) => fs.existsSync(path.join(root, file)));
  if (taken) throw new UserError(`${taken} exists already; nothing written`);
  for (const [file, text] of Object.entries(files)) {
    const at = path.join(root, file);
    fs.mkdirSync(path.dirname(at), { recursive: true });
    fs.writeFileSync(at, text);
    console.log(`wrote ${path.relative(process.cwd(), at)}`);
  }
}
