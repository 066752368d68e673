// There is no Docker engine to run it here, so check the compose file's shape.
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

const compose = parse(fs.readFileSync(path.join(__dirname, '..', 'docker-compose.yml'), 'utf8'));

it('runs postgres, a Temporal server on that postgres, the UI, migrations and a tju worker', () => {
  expect(Object.keys(compose.services).sort()).toEqual(['migrate', 'postgres', 'temporal', 'temporal-ui', 'worker']);
  const temporal = compose.services.temporal;
  expect(temporal.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgres' });
  expect(Object.keys(temporal.depends_on)).toContain('postgres');
  expect(compose.services['temporal-ui'].environment.TEMPORAL_ADDRESS).toBe('temporal:7233');
});

it('runs the worker as PID 1 in exec form, against that postgres and Temporal', () => {
  const worker = compose.services.worker;
  expect(worker.command).toEqual(['node', 'bin/tju.js', 'worker']);
  expect(worker.environment.TEMPORAL_ADDRESS).toBe('temporal:7233');
  expect(new URL(worker.environment.DATABASE_URL).hostname).toBe('postgres');
  expect(worker.depends_on).toMatchObject({
    temporal: expect.anything(),
    migrate: { condition: 'service_completed_successfully' },
  });
  expect(compose.services.migrate.command).toEqual(['node', 'bin/tju.js', 'migrate']);
});
