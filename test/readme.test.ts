// The README's quick start, as printed: its files written where their first lines say, its commands run in
// order in a new app folder beside a checkout of tju (../tju), with nothing of the test's environment. If the
// README drifts from what works, this fails.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { adminUrl } from './helpers/databases';

const ROOT = path.join(__dirname, '..');
const DATABASE = 'welcome_app';

interface Block {
  lang: string;
  text: string;
}

/** The fenced blocks between `<!-- quick start -->` and `<!-- /quick start -->`. */
function quickStart(): Block[] {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('<!-- quick start -->'), readme.indexOf('<!-- /quick start -->'));
  return [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], text: m[2] }));
}

/** A file block's path: its first line, `// path — what it is` or `-- path`. */
const fileOf = (block: Block): string | undefined => /^(?:\/\/|--) ([\w./-]+)/.exec(block.text)?.[1];

async function dropDatabase(): Promise<void> {
  const admin = new Client({ connectionString: adminUrl('postgres') });
  admin.on('error', () => undefined);
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  await admin.end();
}

it('runs the quick start as the README prints it: a first run bills both users', async () => {
  const blocks = quickStart();
  const files = blocks.filter((b) => b.lang !== 'sh');
  const commands = blocks.filter((b) => b.lang === 'sh').map((b) => b.text);
  expect(files.map(fileOf)).toEqual([
    'migrations/001_users.sql',
    'batches/onboarding/send-welcome/trigger.ts',
    'batches/onboarding/send-welcome/unit.ts',
    'batches/onboarding/send-welcome/index.ts',
    'batches/index.ts',
    'tju.config.ts',
  ]);

  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tju-readme-'));
  const app = path.join(home, 'app');
  fs.mkdirSync(app);
  fs.symlinkSync(ROOT, path.join(home, 'tju'));
  for (const block of files) {
    const file = path.join(app, fileOf(block)!);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, block.text);
  }
  await dropDatabase();

  // A new user's shell: none of this test's own settings.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(TEMPORAL_|TJU_|DATABASE_URL$|PG|JEST|NODE_ENV$)/.test(name)),
  );
  const script = ['set -euo pipefail', ...commands].join('\n');
  const started = Date.now();
  const shell = spawn('bash', ['-c', script], { cwd: app, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  shell.stdout.on('data', (chunk) => (stdout += chunk));
  shell.stderr.on('data', (chunk) => (stderr += chunk));
  try {
    const code = await new Promise<number | null>((resolve) => shell.on('exit', resolve));
    const tail = (file: string) => (fs.existsSync(path.join(app, file)) ? fs.readFileSync(path.join(app, file), 'utf8').slice(-2000) : '');
    if (code !== 0) {
      throw new Error(
        `the quick start exited ${code}\n--- stdout\n${stdout}\n--- stderr\n${stderr.slice(-3000)}\n--- worker.log\n${tail('worker.log')}`,
      );
    }
    expect(stdout).toContain('total 2, succeeded 2, failed 0, skipped 0');
    console.log(`the quick start took ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    // The server and the worker it left running in the background: their process group, given a moment to stop
    // on their own, then killed.
    const signal = (name: NodeJS.Signals | 0) => {
      try {
        process.kill(-shell.pid!, name);
        return true;
      } catch {
        return false; // gone
      }
    };
    const alive = () => signal(0);
    signal('SIGTERM');
    for (const deadline = Date.now() + 10_000; alive() && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    signal('SIGKILL');
    await dropDatabase().catch(() => undefined);
    fs.rmSync(home, { recursive: true, force: true });
  }
}, 600_000);
