// There is no Docker engine here, so the compose stack is checked by reading it: each check below fails
// for a reason that would break a first `docker compose up` or a deployment.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { CONFIG_VARIABLES } from '../../src/config';
import { billingCommands } from '../../examples/billing/commands';
import { cliApp } from '../../src/cli/app';
import { TEMPORAL_CLI_VERSION } from '../../src/temporal/devServer';
import { buildProgram } from '../../src/cli/main';

const ROOT = path.join(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const compose = parse(read('docker-compose.yml'));
type Service = {
  image?: string;
  build?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: unknown;
  restart?: string;
  volumes?: string[];
};
const services = compose.services as Record<string, Service>;
/** Services others wait on to have completed: set-up steps that run once; everything else runs for good. */
const oneShots = [
  ...new Set(
    Object.values(services).flatMap((s) =>
      Object.entries(s.depends_on ?? {})
        .filter(([, { condition }]) => condition === 'service_completed_successfully')
        .map(([name]) => name),
    ),
  ),
];

it('gates every dependency on health, or on a set-up step having finished', () => {
  for (const [name, service] of Object.entries(services)) {
    for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
      const expected = oneShots.includes(dependency) ? 'service_completed_successfully' : 'service_healthy';
      expect(`${name} → ${dependency}: ${condition}`).toBe(`${name} → ${dependency}: ${expected}`);
      if (expected === 'service_healthy') expect(services[dependency].healthcheck).toBeDefined();
    }
  }
  // The worker waits for everything it talks to: PostgreSQL, Temporal, the namespace and the migrations.
  expect(Object.keys(services.worker.depends_on!).sort()).toEqual(['migrate', 'postgres', 'temporal', 'temporal-namespace']);
});

it('never restarts a set-up step that others wait on, and restarts everything else', () => {
  // A dependent waiting on service_completed_successfully fails at the step's first non-zero exit, whatever
  // its restart policy: a restarting one-shot only hides that. The steps retry inside instead (tested below).
  expect(oneShots.sort()).toEqual(['migrate', 'temporal-namespace', 'temporal-schema']);
  for (const [name, service] of Object.entries(services)) {
    expect(`${name}: ${service.restart}`).toBe(`${name}: ${oneShots.includes(name) ? 'no' : 'unless-stopped'}`);
  }
  expect(services.migrate.environment!.TJU_CONNECT_TIMEOUT).toBeDefined(); // tju's step waits for PostgreSQL itself
});

it('pins every image at a tag in the form Temporal publishes it', () => {
  for (const service of Object.values(services)) if (service.image) expect(service.image).toMatch(/^[\w./-]+:\d+\.\d+(\.\d+)?(-[\w.-]+)?$/);
  // Temporal publishes admin-tools for a server release as <server>-tctl-<tctl>-cli-<cli> (1.29.x and
  // before); a bare <server> tag does not exist for them. Its tools and the server come from one release, so
  // the schema fits the server, and its CLI is the minor release tju builds.
  const server = services.temporal.image!.match(/^temporalio\/server:(\d+\.\d+\.\d+)$/)![1]; // auto-setup is deprecated upstream
  const cliMinor = TEMPORAL_CLI_VERSION.replace(/^v/, '').split('.').slice(0, 2).join('.');
  for (const name of ['temporal-schema', 'temporal-namespace']) {
    const [, tools, cli] = services[name].image!.match(/^temporalio\/admin-tools:(\d+\.\d+\.\d+)-tctl-\d+\.\d+\.\d+-cli-(\d+\.\d+)\.\d+$/)!;
    expect([tools, cli]).toEqual([server, cliMinor]);
  }
});

it("checks the worker's health by its polling, with a command the image runs", () => {
  const { test, start_period } = services.worker.healthcheck as { test: string[]; start_period: string };
  const [form, node, bin, command] = test;
  expect([form, node, bin]).toEqual(['CMD', 'node', services.worker.command![1]]);
  const commands = buildProgram(cliApp({ batches: [], root: process.cwd() }), { extend: billingCommands }).commands.map((c) => c.name());
  expect(commands).toContain(command);
  expect(command).toBe('health'); // DescribeTaskQueue pollers with this host's identity: test/newUser.test.ts
  expect(start_period).toMatch(/^\d+s$/);
});

it('runs commands that exist, from an entry point that the image contains', () => {
  const commands = buildProgram(cliApp({ batches: [], root: process.cwd() }), { extend: billingCommands }).commands.map((c) => c.name());
  const dockerfile = read('Dockerfile');
  const finalStage = dockerfile.slice(dockerfile.lastIndexOf('FROM '));
  for (const name of ['worker', 'migrate']) {
    const [node, bin, command] = services[name].command!;
    expect(node).toBe('node'); // exec form: node is PID 1 and gets SIGTERM, so the worker drains
    expect(fs.existsSync(path.join(ROOT, bin))).toBe(true);
    expect(finalStage).toMatch(new RegExp(`^COPY .*\\b${bin.split('/')[0]}\\b`, 'm'));
    expect(bin).toMatch(/\.js$/);
    expect(commands).toContain(command);
    expect(services[name].build).toBe('.');
  }
  expect(finalStage).toMatch(/^USER (?!root)\w+/m);
  expect(finalStage).toMatch(/--omit=dev/);
  expect(read('.dockerignore').split('\n')).toEqual(expect.arrayContaining(['node_modules', 'dist', '.git']));
});

it('sets only environment variables that tju reads', () => {
  for (const name of ['worker', 'migrate']) {
    for (const variable of Object.keys(services[name].environment ?? {})) expect(CONFIG_VARIABLES).toContain(variable);
  }
  // The worker reaches the stack's own PostgreSQL and Temporal.
  expect(new URL(services.worker.environment!.DATABASE_URL).hostname).toBe('postgres');
  expect(services.worker.environment!.TEMPORAL_ADDRESS).toBe('temporal:7233');
});

it('mounts set-up scripts that exist', () => {
  for (const service of Object.values(services)) {
    const mount = service.volumes?.find((v) => v.startsWith('./'));
    if (!mount) continue;
    const [source, target] = mount.split(':');
    for (const arg of service.entrypoint ?? []) {
      if (arg.startsWith(`${target}/`)) expect(fs.existsSync(path.join(ROOT, source, arg.slice(target.length)))).toBe(true);
    }
  }
});

describe('set-up scripts retry by themselves, since compose will not restart them', () => {
  /** Runs a mounted script with stub tools that fail their first `failures` calls; returns its exit and calls. */
  function runWithStubs(script: string, failures: number, env: Record<string, string> = {}) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tju-compose-'));
    const calls = path.join(dir, 'calls');
    for (const tool of ['temporal-sql-tool', 'temporal']) {
      const stub = path.join(dir, tool);
      fs.writeFileSync(
        stub,
        `#!/bin/sh\necho "${tool} $*" >> "${calls}"\nn=$(wc -l < "${calls}")\n[ "$n" -gt ${failures} ] || { echo "${tool}: connection refused" >&2; exit 1; }\n`,
      );
      fs.chmodSync(stub, 0o755);
    }
    const result = spawnSync('/bin/sh', [path.join(ROOT, 'deploy/temporal', script)], {
      encoding: 'utf8',
      env: {
        PATH: `${dir}:${process.env.PATH}`,
        SETUP_RETRY_SECONDS: '0',
        SQL_PLUGIN: 'postgres12',
        SQL_HOST: 'postgres',
        SQL_PORT: '5432',
        SQL_USER: 'temporal',
        SQL_PASSWORD: 'temporal',
        TEMPORAL_ADDRESS: 'temporal:7233',
        TEMPORAL_NAMESPACE: 'default',
        ...env,
      },
    });
    const lines = fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8').trim().split('\n') : [];
    fs.rmSync(dir, { recursive: true, force: true });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr, calls: lines };
  }

  it("setup-schema.sh retries until PostgreSQL answers, then creates and upgrades both of Temporal's databases", () => {
    const { code, stdout, calls } = runWithStubs('setup-schema.sh', 3);
    expect(code).toBe(0);
    expect(stdout).toContain('attempt 3/30');
    const steps = calls.slice(3).map((call) =>
      call
        .match(/--db (\w+) ([\w-]+)/)!
        .slice(1)
        .join(' '),
    );
    expect(steps).toEqual([
      'temporal create',
      'temporal setup-schema',
      'temporal update-schema',
      'temporal_visibility create',
      'temporal_visibility setup-schema',
      'temporal_visibility update-schema',
    ]);
  });

  it('setup-schema.sh gives up with a line and a non-zero exit after its attempts', () => {
    const { code, stderr, calls } = runWithStubs('setup-schema.sh', 1000, { SETUP_ATTEMPTS: '3' });
    expect(code).toBe(1);
    expect(stderr).toContain("Temporal's schema could not be set up after 3 attempts");
    expect(calls).toHaveLength(3); // a failed step ends the attempt: later steps never run on a missing database
  });

  it('create-namespace.sh waits for the server, then creates the namespace once', () => {
    // describe and create both fail while the server is down; on the 2nd attempt describe fails (missing), create works.
    const { code, stdout, calls } = runWithStubs('create-namespace.sh', 3);
    expect(code).toBe(0);
    expect(stdout).toContain('attempt 1/60');
    expect(calls.filter((call) => call.includes('namespace create'))).toHaveLength(2);
    expect(calls[calls.length - 1]).toMatch(/^temporal operator namespace create -n default --retention 30d --address temporal:7233$/);
    const failing = runWithStubs('create-namespace.sh', 1000, { SETUP_ATTEMPTS: '2' });
    expect(failing.code).toBe(1);
    expect(failing.stderr).toContain('namespace default could not be created at temporal:7233 after 2 attempts');
  });
});
