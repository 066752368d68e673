// Encrypted payloads: with TJU_CODEC_KEYS, what Temporal stores of a job (its target's options) is ciphertext;
// the CLI, the worker and `tju failures` still read it, and `tju codec-server` decrypts for the UI and CLI.
import crypto from 'node:crypto';
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { EncryptionCodec, codecFromEnv } from '../src/codec';
import { ensureTemporalCli, freePort } from '../src/temporal/devServer';
import { insertNoFeeSubscriptions, insertSubscriptions } from './helpers/billing';
import { TEST_CONFIG, tju } from './helpers/cli';
import { startHarness, type Harness } from './helpers/harness';
import { startWorkerProcess } from './helpers/workerProcess';

let h: Harness;
beforeAll(async () => {
  h = await startHarness([], { worker: false });
});
afterAll(() => h.close());

const key = () => crypto.randomBytes(32).toString('base64');
const MARK = 'wire-to-IBAN-DE89370400440532013000';

/** A workflow's history as `temporal workflow show -o json` prints it, with every payload's data decoded to text. */
async function show(workflowId: string, ...extra: string[]): Promise<string> {
  const args = ['workflow', 'show', '-o', 'json', '--address', h.address, '--namespace', h.namespace, '--workflow-id', workflowId];
  const { stdout } = await promisify(execFile)(ensureTemporalCli(), [...args, ...extra]);
  const data = [...stdout.matchAll(/"data": *"([A-Za-z0-9+/=]*)"/g)].map((m) => Buffer.from(m[1], 'base64').toString('latin1'));
  return [stdout, ...data].join('\n');
}

it("keeps a target's options out of Temporal's histories, yet every tju command reads them", async () => {
  const [oldKey, newKey] = [key(), key()];
  // Rotated: the new key encrypts, the old one still decrypts what it wrote.
  const env = { ...h.env, TJU_CODEC_KEYS: `k2:${newKey},k1:${oldKey}` };
  const date = '2026-12-01';
  await insertSubscriptions(h.pool, 3);
  const [noFee] = await insertNoFeeSubscriptions(h.pool, 1);
  await h.pool.query('UPDATE subscriptions SET payment_method = $1', [MARK]);
  let worker = await startWorkerProcess(h, { TJU_CODEC_KEYS: env.TJU_CODEC_KEYS });
  try {
    const run = await tju(['trigger', 'billing.issue-invoices', '--date', date, '--wait'], env);
    expect(run.stdout).toContain('total 4, succeeded 3, failed 1, skipped 0');

    const jobId = `billing.issue-invoices/${date}/${noFee}`;
    const stored = await show(jobId);
    expect(stored).toContain(Buffer.from('binary/encrypted').toString('base64'));
    expect(stored).not.toContain(MARK);
    expect(stored).not.toContain('payment_method');

    const failures = await tju(['failures', 'billing.issue-invoices', '--date', date], env);
    expect(failures.stdout).toContain(`payment_method=${MARK}`);
    expect((await tju(['status', 'billing.issue-invoices', '--date', date], env)).stdout).toContain('total 4, succeeded 3, failed 1');

    // `tju temporal` gives Temporal's CLI a codec server of its own: the recipes print payloads, not ciphertext.
    const queried = await tju(
      ['temporal', 'workflow', 'query', '--workflow-id', `billing.issue-invoices/${date}`, '--type', 'progress'],
      env,
    );
    expect(queried.code).toBe(0);
    expect(queried.stdout).toMatch(/"total":\s*4/);
    const shown = await tju(['temporal', 'workflow', 'show', '--workflow-id', jobId, '-o', 'json'], env);
    const payloads = [...shown.stdout.matchAll(/"data": *"([A-Za-z0-9+/=]*)"/g)].map((m) => Buffer.from(m[1], 'base64').toString('latin1'));
    expect(payloads.join('\n')).toContain(MARK);

    // Without the keys, a finished run's counts still show (the run history is plain); asking Temporal, the
    // CLI shows what it can and says what it cannot read; with a wrong key, which key.
    const recorded = await tju(['status', 'billing.issue-invoices', '--date', date], h.env);
    expect(recorded).toMatchObject({ code: 0, stderr: '' });
    expect(recorded.stdout).toContain(`billing.issue-invoices/${date}: COMPLETED (from run history)\n  total 4, succeeded 3, failed 1`);
    const keyless = await tju(['status', 'billing.issue-invoices', '--date', date, '--live'], h.env);
    expect(keyless).toMatchObject({ code: 0, stderr: '' });
    expect(keyless.stdout).toContain(`billing.issue-invoices/${date}: COMPLETED`);
    expect(keyless.stdout).toContain("the run's payloads are encrypted: set TJU_CODEC_KEYS to the keys its workers use");
    const wrongKey = await tju(['status', 'billing.issue-invoices', '--date', date, '--live'], { ...h.env, TJU_CODEC_KEYS: `k2:${key()}` });
    expect(wrongKey).toMatchObject({ code: 0, stderr: '' });
    expect(wrongKey.stdout).toContain('a payload encrypted with key "k2" does not decrypt with the key TJU_CODEC_KEYS gives that ID');
    // A plaintext run beside the encrypted ones (from before the keys, say): `runs` lists them all, the encrypted
    // ones with their counts from the run history and a note of why the rest cannot be read.
    await worker.kill('SIGTERM');
    const keylessWorker = await startWorkerProcess(h);
    try {
      await h.pool.query(`INSERT INTO subscriptions (customer, status, monthly_fee) VALUES ('plain', 'active', 10)`);
      const plain = await tju(['trigger', 'billing.issue-invoices', '--date', '2026-12-03', '--wait'], h.env);
      expect(plain.stdout).toContain('total 5, succeeded 4, failed 1'); // the subscription with no fee, again
    } finally {
      await keylessWorker.kill('SIGTERM');
    }
    const runs = await tju(['runs', 'billing.issue-invoices'], h.env);
    expect(runs.code).toBe(0);
    expect(runs.stdout).toMatch(/billing\.issue-invoices\/2026-12-03 {2}COMPLETED {2}\S+ {2}total 5, succeeded 4, failed 1/);
    expect(runs.stdout).toMatch(new RegExp(`billing\\.issue-invoices/${date} {2}COMPLETED {2}\\S+ {2}total 4, succeeded 3, failed 1`));
    worker = await startWorkerProcess(h, { TJU_CODEC_KEYS: env.TJU_CODEC_KEYS });
    // --wait without the keys: the run's own outcome decides the exit code; the unreadable summary is a warning,
    // and the counts come from the run history.
    await h.pool.query(`INSERT INTO subscriptions (customer, status, monthly_fee) VALUES ('late', 'active', NULL)`);
    const waited = await tju(['trigger', 'billing.issue-invoices', '--date', date, '--wait'], h.env);
    expect(waited.stderr).toContain("tju: warning: the run's payloads are encrypted");
    expect(waited.stdout).toMatch(/total \d+, succeeded \d+, failed [1-9]/);
    expect(waited.code).toBe(1);

    // The codec server decrypts for `temporal --codec-endpoint` and the Web UI, with its bearer token only.
    const port = await freePort();
    const token = 'a-codec-token-for-tests';
    const server = spawn(
      process.execPath,
      [path.join(__dirname, '..', 'bin', 'tju.js'), '--config', TEST_CONFIG, 'codec-server', '--port', String(port)],
      {
        env: { ...process.env, ...env, TJU_CODEC_TOKEN: token },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        server.stdout.on('data', (chunk) => String(chunk).includes('codec server on') && resolve());
        server.once('exit', (code) => reject(new Error(`codec-server exited with ${code}`)));
      });
      const endpoint = `http://127.0.0.1:${port}`;
      expect(await show(jobId, '--codec-endpoint', endpoint, '--codec-auth', `Bearer ${token}`)).toContain(`"payment_method":"${MARK}"`);
      const preflight = await fetch(`${endpoint}/decode`, { method: 'OPTIONS', headers: { origin: 'http://localhost:8233' } });
      expect(preflight.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');

      // Without the token (or with another), a page from another origin, or a body too large: refused.
      const encrypted = JSON.parse(
        (
          await promisify(execFile)(ensureTemporalCli(), [
            'workflow',
            'show',
            '-o',
            'json',
            '--address',
            h.address,
            '--namespace',
            h.namespace,
            '--workflow-id',
            jobId,
          ])
        ).stdout,
      );
      const payloads = { payloads: [encrypted.events[0].workflowExecutionStartedEventAttributes.input.payloads[0]] };
      const decode = (headers: Record<string, string>, body = JSON.stringify(payloads)) =>
        fetch(`${endpoint}/decode`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      expect((await decode({})).status).toBe(401);
      expect((await decode({ authorization: 'Bearer not-the-token-at-all' })).status).toBe(401);
      expect((await decode({ authorization: `Bearer ${token}`, origin: 'http://evil.example' })).status).toBe(403);
      expect((await decode({ authorization: `Bearer ${token}` }, 'x'.repeat(9 * 1024 * 1024))).status).toBe(413);
      const decoded = await decode({ authorization: `Bearer ${token}`, origin: 'http://localhost:8233' });
      expect(decoded.status).toBe(200);
      expect(
        Buffer.from(((await decoded.json()) as { payloads: Array<{ data: string }> }).payloads[0].data, 'base64').toString(),
      ).toContain(MARK);
    } finally {
      server.kill('SIGTERM');
    }
  } finally {
    await worker.kill('SIGTERM');
  }
});

it('decrypts payloads written under an older key, and refuses one whose key it lacks', async () => {
  const [k1, k2] = [key(), key()];
  const before = codecFromEnv(`k1:${k1}`)!;
  const after = codecFromEnv(`k2:${k2},k1:${k1}`)!;
  const payload = { metadata: { encoding: new TextEncoder().encode('json/plain') }, data: new TextEncoder().encode(`"${MARK}"`) };
  const [old] = await before.encode([payload]);
  expect(Buffer.from(old.data!).toString()).not.toContain(MARK);
  const [decoded] = await after.decode([old]);
  expect(new TextDecoder().decode(decoded.data!)).toBe(`"${MARK}"`);
  expect(new TextDecoder().decode(decoded.metadata!.encoding)).toBe('json/plain');
  const [fresh] = await after.encode([payload]);
  expect(new TextDecoder().decode(fresh.metadata!['encryption-key-id'])).toBe('k2');
  await expect(codecFromEnv(`k1:${k1}`)!.decode([fresh])).rejects.toThrow('encrypted with key "k2"');
  const tampered = { ...fresh, data: Uint8Array.from(fresh.data!, (b, i) => (i === 20 ? b ^ 1 : b)) };
  await expect(after.decode([tampered])).rejects.toThrow();
  expect(() => new EncryptionCodec([{ id: 'short', key: Buffer.alloc(16) }])).toThrow('16 bytes, not 32');
});

it('refuses malformed keys in one line, writing nothing', async () => {
  for (const value of ['k1', `k1:${Buffer.alloc(16).toString('base64')}`, `bad id:${key()}`]) {
    const result = await tju(['trigger', 'billing.issue-invoices', '--date', '2026-12-02'], { ...h.env, TJU_CODEC_KEYS: value });
    expect(result).toMatchObject({
      code: 2,
      stdout: '',
      stderr: 'tju: TJU_CODEC_KEYS: expected id:key pairs, comma-separated, each key 32 bytes in base64\n',
    });
  }
  for await (const started of h.client.workflow.list({ query: `WorkflowId = 'billing.issue-invoices/2026-12-02'` })) {
    throw new Error(`a malformed key still started ${started.workflowId}`);
  }
  const server = await tju(['codec-server'], h.env);
  expect(server).toMatchObject({ code: 2, stderr: 'tju: TJU_CODEC_KEYS is not set: the codec server decrypts with those keys\n' });
  const exposed = await tju(['codec-server', '--host', '0.0.0.0'], { ...h.env, TJU_CODEC_KEYS: `k1:${key()}` });
  expect(exposed).toMatchObject({
    code: 2,
    stdout: '',
    stderr: 'tju: --host 0.0.0.0 would decrypt for whoever reaches it: set TJU_CODEC_TOKEN first\n',
  });
});
