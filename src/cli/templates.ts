// The files `tju init` and `tju make:batch` write: a batch in the shape of the reference one. Relative imports
// name their `.js` file, so the same code type-checks and runs in an ES module app (NodeNext) and a CommonJS one.

/** `send-reminders` → `sendReminders`; `send-reminders` → `SendReminders` with `upper`. */
const camel = (name: string, upper = false) =>
  name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase()).replace(/^./, (c) => (upper ? c.toUpperCase() : c));
const table = (domain: string, name: string) => `${domain}_${name}`.replace(/-/g, '_');

export const configFile = (
  taskQueue: string,
) => `// tju's configuration for this app: its batches, and defaults that environment variables override.
import { defineConfig } from 'tju';
import { batches } from './batches/index.js';

export default defineConfig({
  batches,
  // This app's own task queue: another app's workers on the same Temporal namespace never take its work.
  taskQueue: '${taskQueue}',
  // The app's own tables: \`npx tju migrate\` applies these after tju's, each once.
  migrations: './migrations',
});
`;

export const indexFile = () => `// Every batch of this app: a worker runs all of them; \`npx tju trigger <name>\` starts any of them.
import type { Batch } from 'tju';

export const batches: Batch[] = [
];
`;

/** The line that imports a batch into batches/index.ts, or into a config that lists batches itself. */
export const batchImport = (domain: string, name: string, from: string) =>
  `import { ${camel(name)} } from '${from}/${domain}/${name}/index.js';`;
export const batchConst = (name: string) => camel(name);

/** batches/index.ts with one more batch: its import after the others, its entry last in the list. */
export function addToIndex(index: string, domain: string, name: string): string {
  const lines = index.split('\n');
  const lastImport = lines.map((line) => line.startsWith('import ')).lastIndexOf(true);
  lines.splice(lastImport + 1, 0, `import { ${camel(name)} } from './${domain}/${name}/index.js';`);
  const close = lines.lastIndexOf('];');
  if (close < 0) return index; // not the shape tju writes: the caller says so
  lines.splice(close, 0, `  ${camel(name)},`);
  return lines.join('\n');
}

export const migrationFile = (
  domain: string,
  name: string,
) => `-- The tables of the ${domain}.${name} batch: its targets, and what it did for each per run.
CREATE TABLE IF NOT EXISTS ${table(domain, name)} (
  id   bigserial PRIMARY KEY,
  name text      NOT NULL
);
CREATE TABLE IF NOT EXISTS ${table(domain, name)}_done (
  target_id bigint NOT NULL REFERENCES ${table(domain, name)} (id),
  run_date  date   NOT NULL,
  UNIQUE (target_id, run_date)
);
`;

/** The names a batch's files use: its table, its type prefix, its constants. */
interface BatchNames {
  domain: string;
  name: string;
  /** Its table. */
  t: string;
  /** PascalCase, for types. */
  Name: string;
  /** camelCase, for constants. */
  value: string;
}

/** trigger.ts, unit.ts, index.ts and unit.test.ts of batch `<domain>.<name>`. */
export function batchFiles(domain: string, name: string): Record<string, string> {
  const names: BatchNames = { domain, name, t: table(domain, name), Name: camel(name, true), value: camel(name) };
  return {
    'trigger.ts': triggerFile(names),
    'unit.ts': unitFile(names),
    'index.ts': definitionFile(names),
    'unit.test.ts': testFile(names),
  };
}

const triggerFile = ({ t, Name }: BatchNames): string => `import type { Db, TargetPage } from 'tju';

export interface ${Name}Target {
  key: string;
  name: string;
}

/** Trigger: the targets not yet done for this run, \`key > after\`, in key order, \`limit\` rows. */
export async function select${Name}Targets(db: Db, { params, after, limit }: TargetPage<{ date: string }>): Promise<${Name}Target[]> {
  const { rows } = await db.query<${Name}Target>(
    \`SELECT t.id::text AS key, t.name FROM ${t} t
      WHERE t.id > $1 AND NOT EXISTS (SELECT 1 FROM ${t}_done d WHERE d.target_id = t.id AND d.run_date = $2)
      ORDER BY t.id LIMIT $3\`,
    [after ?? 0, params.date, limit],
  );
  return rows;
}
`;

const unitFile = ({ domain, name, t, Name, value }: BatchNames): string => `import { defineUnit, NonRetryableError } from 'tju';

export interface ${Name}Input {
  targetId: string;
  date: string;
}

/** Unit: the work for one target, in one transaction that tju opens: lock, guard, write. */
export const ${value}Unit = defineUnit<${Name}Input>({
  name: '${domain}.${name}',
  async run(tx, { targetId, date }) {
    const target = await tx.query('SELECT 1 FROM ${t} WHERE id = $1 FOR UPDATE', [targetId]);
    if (!target.rowCount) throw new NonRetryableError(\`${t} \${targetId} does not exist\`);
    const done = await tx.query('SELECT 1 FROM ${t}_done WHERE target_id = $1 AND run_date = $2', [targetId, date]);
    if (done.rowCount) return 'skipped';
    await tx.query('INSERT INTO ${t}_done (target_id, run_date) VALUES ($1, $2)', [targetId, date]);
  },
});
`;

const definitionFile = ({ domain, name, Name, value }: BatchNames): string => `import { z } from 'zod';
import { dateParam, defineBatch } from 'tju';
import { select${Name}Targets } from './trigger.js';
import { ${value}Unit } from './unit.js';

/** ${domain}.${name}: once per date, for every target not yet done. */
export const ${value} = defineBatch({
  name: '${domain}.${name}',
  params: z.object({ date: dateParam() }),
  runKey: (params) => params.date,
  targets: select${Name}Targets,
  // per-chunk: each target still gets its own transaction, retries and failure record, for a fraction of
  // per-target's CPU and Temporal actions; bulk suits runs of 100,000 targets and more (docs/performance.md, "Sizing").
  trigger: { granularity: 'per-chunk' },
  job: { input: (target, params) => ({ targetId: target.key, date: params.date }) },
  unit: ${value}Unit,
});
`;

const testFile = ({
  domain,
  name,
  t,
  value,
}: BatchNames): string => `// Against the test database in DATABASE_URL, with the batch's tables migrated: the unit alone (twice, the
// second changes nothing), then the whole batch through a Temporal dev server that tju/testing starts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPool } from 'tju';
import { createTestEnv } from 'tju/testing';
import { ${value} } from './index.js';
import { ${value}Unit } from './unit.js';

const skip = !process.env.DATABASE_URL && 'set DATABASE_URL to a test database';

test('${domain}.${name}: the unit does its work once per target and date', { skip }, async () => {
  const pool = createPool(process.env.DATABASE_URL!);
  try {
    const { rows } = await pool.query("INSERT INTO ${t} (name) VALUES ('unit') RETURNING id::text AS id");
    const input = { targetId: rows[0].id, date: '2026-01-01' };
    assert.equal((await ${value}Unit.execute(pool, input)).outcome, 'succeeded');
    assert.equal((await ${value}Unit.execute(pool, input)).outcome, 'skipped');
  } finally {
    await pool.end();
  }
});

test('${domain}.${name}: a run does every target not yet done', { skip, timeout: 120_000 }, async () => {
  const env = await createTestEnv({ batches: [${value}] });
  try {
    const { rows } = await env.pool.query<{ id: string }>("INSERT INTO ${t} (name) VALUES ('a'), ('b') RETURNING id::text AS id");
    const summary = await env.run('${domain}.${name}', { date: '2026-01-02' });
    assert.equal(summary.failed, 0);
    const done = await env.pool.query('SELECT 1 FROM ${t}_done WHERE run_date = $1 AND target_id = ANY($2)', ['2026-01-02', rows.map((r) => r.id)]);
    assert.equal(done.rowCount, 2);
  } finally {
    await env.close();
  }
});
`;
