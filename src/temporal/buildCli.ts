// Builds the pinned Temporal CLI with `go install`, saying every few seconds how far it is: the first build on a
// machine downloads and compiles some 160 modules, minutes of silence otherwise. Run as a child process by
// ensureTemporalCli (src/temporal/devServer.ts), which waits for it: `node buildCli.js <module@version> <dir> <log>`.
import { spawn } from 'node:child_process';
import fs from 'node:fs';

/** How often it says how far it is (TJU_BUILD_PROGRESS_MS, for tests). */
const PROGRESS_MS = Number(process.env.TJU_BUILD_PROGRESS_MS ?? 10_000);

async function main(): Promise<number> {
  const [target, gobin, logFile] = process.argv.slice(2);
  const started = Date.now();
  const log = fs.openSync(logFile, 'w');
  const build = spawn('go', ['install', target], { env: { ...process.env, GOBIN: gobin }, stdio: ['ignore', log, log] });
  const progress = setInterval(() => {
    const text = fs.readFileSync(logFile, 'utf8');
    const downloaded = (text.match(/^go: downloading /gm) ?? []).length;
    const doing = downloaded ? `${downloaded} modules downloaded; compiling when they are all in` : 'resolving and compiling modules';
    console.error(`  … still building the Temporal CLI (${Math.round((Date.now() - started) / 1000)} s): ${doing}`);
  }, PROGRESS_MS);
  const code = await new Promise<number>((resolve) => build.on('exit', (status, signal) => resolve(status ?? (signal ? 1 : 0))));
  clearInterval(progress);
  fs.closeSync(log);
  if (code === 0) console.error(`  built the Temporal CLI in ${Math.round((Date.now() - started) / 1000)} s`);
  return code;
}

void main().then((code) => process.exit(code));
