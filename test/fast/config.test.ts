// Where tju's settings come from: environment over the app's config file over defaults; Temporal's connection
// as the `temporal` CLI reads it; PostgreSQL from DATABASE_URL or libpq's variables.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';

it('takes the database from DATABASE_URL, then the config file, then the PG* variables', () => {
  const pg = { PGHOST: 'db.internal', PGPORT: '6432', PGUSER: 'billing', PGDATABASE: 'acme', PGSSLMODE: 'require' };
  expect(loadConfig(pg).databaseUrl).toBe('postgres://billing@db.internal:6432/acme?sslmode=require');
  expect(loadConfig(pg, { databaseUrl: 'postgres://app@h/app' }).databaseUrl).toBe('postgres://app@h/app');
  expect(loadConfig({ ...pg, DATABASE_URL: 'postgres://env@h/env?sslmode=verify-full' }).databaseUrl).toBe(
    'postgres://env@h/env?sslmode=verify-full',
  );
  expect(loadConfig({}).databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/tju');
});

it("reads Temporal's connection from a temporal CLI profile, with the environment over it", () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tju-profile-')), 'temporal.toml');
  fs.writeFileSync(file, '[profile.prod]\naddress = "acme.a1b2c.tmprl.cloud:7233"\nnamespace = "acme.a1b2c"\napi_key = "secret"\n');
  const prod = loadConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' });
  expect(prod.temporal).toMatchObject({ address: 'acme.a1b2c.tmprl.cloud:7233', namespace: 'acme.a1b2c', apiKey: 'secret' });
  expect(prod.temporalAddress).toBe('acme.a1b2c.tmprl.cloud:7233');
  const overridden = loadConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod', TEMPORAL_NAMESPACE: 'staging' });
  expect(overridden.temporal.namespace).toBe('staging');
  // Nothing configured: the local dev server, which tju may start itself.
  expect(loadConfig({}).temporal).toMatchObject({ address: '127.0.0.1:7233', namespace: 'default' });
  expect(loadConfig({}).temporalAddress).toBeUndefined();
});

it('turns on TLS with a CA file from the environment', () => {
  const ca = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tju-ca-')), 'ca.pem');
  fs.writeFileSync(ca, 'not really a certificate');
  const { temporal } = loadConfig({ TEMPORAL_ADDRESS: 'temporal.internal:7233', TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca });
  expect(temporal.address).toBe('temporal.internal:7233');
  expect(temporal.tls).toMatchObject({ serverRootCACertificate: expect.anything() });
});
