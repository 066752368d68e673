// `tju dashboard` as an operator starts it: one line on bad input, a read-only page without a token, and a
// clean stop on SIGTERM.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../src/temporal/devServer';
import { TEST_CONFIG, tju } from './helpers/cli';
import { startHarness, type Harness } from './helpers/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness([], { worker: false });
});
afterAll(() => h.close());

it('refuses a short token, a bad port and a trace URL without {traceId} in one line, before listening', async () => {
  const short = await tju(['dashboard'], { ...h.env, TJU_DASHBOARD_TOKEN: 'short' });
  expect(short).toMatchObject({ code: 2, stdout: '' });
  expect(short.stderr).toBe('tju: TJU_DASHBOARD_TOKEN: must be at least 16 characters (it guards the buttons that change runs)\n');
  const port = await tju(['dashboard', '--port', '99999'], h.env);
  expect(port.code).toBe(2);
  expect(port.stderr.trim().split('\n')).toHaveLength(1);
  expect(port.stderr).toContain('expected a port number from 1 to 65535');
  const trace = await tju(['dashboard', '--trace-url', 'http://localhost:16686/trace/'], h.env);
  expect(trace).toMatchObject({ code: 2, stdout: '' });
  expect(trace.stderr.trim().split('\n')).toHaveLength(1);
  expect(trace.stderr).toContain('expected an http(s) URL with {traceId} in it');
  const fromEnv = await tju(['dashboard'], { ...h.env, TJU_TRACE_URL: 'jaeger:16686/{traceId}' });
  expect(fromEnv.code).not.toBe(0);
  expect(fromEnv.stderr).toBe(
    'tju: TJU_TRACE_URL: expected an http(s) URL with {traceId} in it, e.g. http://localhost:16686/trace/{traceId}\n',
  );
});

it('serves the runs page on 127.0.0.1, read-only without a token, and stops on SIGTERM', async () => {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [path.join(__dirname, '..', 'bin', 'tju.js'), '--config', TEST_CONFIG, 'dashboard', '--port', String(port)],
    {
      env: { ...process.env, ...h.env, TJU_LOG_LEVEL: 'error', TJU_DASHBOARD_TOKEN: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (stdout.includes('\n')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  try {
    expect(stdout).toBe(
      `dashboard on http://127.0.0.1:${port} (read-only: set TJU_DASHBOARD_TOKEN to enable the buttons); Ctrl-C stops it\n`,
    );
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    const body = await page.text();
    expect(body).toContain('<h1>Runs</h1>');
    expect(body).toContain('Read-only');
    const refused = await fetch(`http://127.0.0.1:${port}/api/runs/1/pause`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(refused.status).toBe(403);
  } catch (err) {
    child.kill('SIGKILL'); // not left running when an expectation fails
    throw err;
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  expect(stderr).toBe('');
});
