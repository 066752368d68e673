#!/usr/bin/env node
// Makes a fresh clone runnable with no step before `npm test` or `npm run demo`: installs node modules,
// compiles, and finds or builds the Temporal CLI. Plain Node, because node_modules may not exist yet.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const mtime = (file) => (fs.existsSync(file) ? fs.statSync(file).mtimeMs : 0);
const installed = path.join(root, 'node_modules', '.package-lock.json');
if (mtime(installed) < mtime(path.join(root, 'package-lock.json'))) {
  console.error('Installing node modules...');
  // Not `npm ci`: the registry here serves no other platforms' optional binaries (@swc/core-darwin-*, ...),
  // so the lock cannot list them and `npm ci` calls it out of sync. `npm install` installs from the lock.
  run('npm', ['install', '--no-audit', '--no-fund']);
}

run(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json']);

// The dashboard's browser test drives the operating system's Chromium (no browser download at run time).
// Installed here when this user may (root with apt-get), as a fresh CI machine runs; else the test says how.
const chromium = process.env.TJU_CHROMIUM || '/usr/bin/chromium';
if (!fs.existsSync(chromium) && process.getuid && process.getuid() === 0 && fs.existsSync('/usr/bin/apt-get')) {
  console.error('Installing Chromium (Debian package) for the browser tests...');
  const quiet = { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } };
  spawnSync('apt-get', ['update'], quiet);
  const installed = spawnSync('apt-get', ['install', '-y', 'chromium'], quiet);
  if (installed.status !== 0) console.error('tju: could not install chromium; the dashboard browser test will say so');
}

if (!process.env.TEMPORAL_ADDRESS) {
  const { ensureTemporalCli } = require('../dist/src/temporal/devServer');
  try {
    ensureTemporalCli();
  } catch (err) {
    console.error(`tju: ${err.message}`);
    process.exit(2);
  }
}
