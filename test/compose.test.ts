// There is no Docker engine here, so the compose stack is checked by reading it: each check below fails
// for a reason that would break a first `docker compose up` or a deployment.
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { CONFIG_VARIABLES } from '../src/config';
import { billingCommands } from '../examples/billing/commands';
import { cliApp } from '../src/cli/app';
import { buildProgram } from '../src/cli/main';

const ROOT = path.join(__dirname, '..');
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
/** Services that run to completion (set-up steps); everything else runs for good. */
const oneShots = Object.entries(services)
  .filter(([, s]) => s.restart?.startsWith('on-failure'))
  .map(([name]) => name);

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

it('restarts long-running services and pins every image by version', () => {
  for (const [name, service] of Object.entries(services)) {
    if (!oneShots.includes(name)) expect(`${name}: ${service.restart}`).toBe(`${name}: unless-stopped`);
    if (service.image) expect(service.image).toMatch(/^[\w./-]+:\d+\.\d+(\.\d+)?$/);
  }
  // Temporal's tools and server come from one release, so the schema fits the server.
  const version = (image?: string) => image?.split(':')[1];
  expect(version(services['temporal-schema'].image)).toBe(version(services.temporal.image));
  expect(services.temporal.image).toMatch(/^temporalio\/server:/); // auto-setup is deprecated upstream
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
