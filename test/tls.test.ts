// Temporal behind TLS, as Temporal Cloud or any secured cluster is: a TLS-terminating proxy with a self-signed
// certificate in front of the dev server. tju's worker and CLI reach it with the CA file, through the same
// settings the `temporal` CLI reads (TEMPORAL_TLS_SERVER_CA_CERT_PATH), and the run completes.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { issueInvoices } from '../examples/billing/batches/issue-invoices';
import { insertSubscriptions, invoiceCounts } from './helpers/billing';
import { tju } from './helpers/cli';
import { startHarness, type Harness } from './helpers/harness';
import { startWorkerProcess } from './helpers/workerProcess';

let h: Harness;
let proxy: tls.Server;
let secured: Record<string, string>;
let handshakes = 0;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tju-tls-'));
const ca = path.join(dir, 'ca.pem');

beforeAll(async () => {
  h = await startHarness([issueInvoices], { worker: false });
  // A CA, and a server certificate it signed for localhost: what a private cluster's operator hands out.
  const file = (name: string) => path.join(dir, name);
  const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=tju test CA',
    '-keyout',
    file('ca.key'),
    '-out',
    ca,
  ]);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', file('key.pem'), '-out', file('server.csr')]);
  fs.writeFileSync(file('san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl([
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    ca,
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    file('san.ext'),
    '-out',
    file('server.pem'),
  ]);
  const [host, port] = h.address.split(':');
  // gRPC over TLS negotiates HTTP/2 by ALPN; behind the proxy the dev server speaks it in plain text.
  proxy = tls.createServer(
    { key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'server.pem')), ALPNProtocols: ['h2'] },
    (socket) => {
      handshakes++;
      const upstream = net.connect(Number(port), host);
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    },
  );
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  secured = { ...h.env, TEMPORAL_ADDRESS: `localhost:${(proxy.address() as net.AddressInfo).port}`, TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca };
});
afterAll(async () => {
  proxy.close();
  await h.close();
});

it('runs a batch through a TLS endpoint with a CA file', async () => {
  await insertSubscriptions(h.pool, 20);
  const worker = await startWorkerProcess(h, secured);
  try {
    const run = await tju(['trigger', 'billing.issue-invoices', '--date', '2026-11-01', '--wait'], secured);
    expect(run.stdout).toContain('total 20, succeeded 20, failed 0, skipped 0');
    expect(run.code).toBe(0);
  } finally {
    await worker.kill('SIGTERM');
  }
  expect(await invoiceCounts(h.pool, '2026-11-01')).toMatchObject({ invoices: 20, duplicates: 0 });
  expect(handshakes).toBeGreaterThanOrEqual(2); // the worker's and the CLI's connections went through TLS
});

it('refuses the self-signed endpoint without the CA, in one line', async () => {
  const { TEMPORAL_TLS_SERVER_CA_CERT_PATH: _, ...withoutCa } = secured;
  const result = await tju(['status', 'billing.issue-invoices', '--date', '2026-11-01', '--live'], { ...withoutCa, TEMPORAL_TLS: 'true' });
  expect(result.code).toBe(2);
  expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^tju: cannot reach Temporal at localhost:\d+/)]);
});

it('names a CA file that does not exist', async () => {
  const result = await tju(['status', 'billing.issue-invoices', '--date', '2026-11-01', '--live'], {
    ...secured,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/nonexistent/ca.pem',
  });
  expect(result.code).toBe(2);
  expect(result.stderr.trim()).toMatch(/^tju: Temporal connection settings: .*\/nonexistent\/ca\.pem/);
});
