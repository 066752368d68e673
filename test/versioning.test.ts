// Worker Versioning on the dev server: a run stays on the build that started it (its jobs too) while the next
// build takes new runs; `tju builds` says when the old build's workers can stop, and `tju status` which build
// a running run is pinned to.
import { testBatches } from './fixtures/batches';
import { insertSubscriptions, invoiceCounts, resetBillingData } from './helpers/billing';
import { tju } from './helpers/cli';
import { startHarness, type Harness } from './helpers/harness';
import { until, untilProgress } from './helpers/wait';

let h: Harness;
beforeAll(async () => {
  h = await startHarness(testBatches, { worker: false });
});
afterAll(() => h.close());

/** Makes `buildId` the deployment's current version, once its workers have polled (the server learns of it then). */
const setCurrent = (deploymentName: string, buildId: string) =>
  until(
    () =>
      h.client.workflowService
        .setWorkerDeploymentCurrentVersion({ namespace: h.namespace, deploymentName, buildId, identity: 'test' })
        .then(() => true)
        .catch((err: Error) => err.message),
    (done) => done === true,
    `build ${buildId} made current`,
  );

/** The build each workflow of a run key (its trigger and every job) is pinned to. */
async function buildsOfRun(runKey: string): Promise<Set<string>> {
  const builds = new Set<string>();
  for await (const wf of h.client.workflow.list({ query: `TjuRunKey = '${runKey}'` })) {
    builds.add(String(wf.searchAttributes?.TemporalWorkerDeploymentVersion?.[0]));
  }
  return builds;
}

it('keeps a run on the build that started it while the next build takes new runs; the old build drains', async () => {
  await resetBillingData(h.pool);
  await insertSubscriptions(h.pool, 30);
  const deployment = `tju-test-${Date.now().toString(36)}`;
  const env = { ...h.env, TJU_DEPLOYMENT: deployment };
  const a = await h.startWorker({ deployment: { name: deployment, buildId: 'A' } });
  await setCurrent(deployment, 'A');
  // A run on A that holds at its canary gate: in flight while B is deployed.
  const onA = await h.tju.trigger('test.mixed-billing', { date: '2026-12-20' }, { canary: { targets: 5 } });
  await untilProgress(onA, (p) => p.held !== undefined);

  const b = await h.startWorker({ deployment: { name: deployment, buildId: 'B' } });
  await setCurrent(deployment, 'B');
  const onB = await h.tju.trigger('test.mixed-billing', { date: '2026-12-21' });
  expect(await onB.result()).toMatchObject({ total: 30, succeeded: 30 });
  expect(await buildsOfRun('2026-12-21')).toEqual(new Set([`${deployment}:B`]));

  // A still has a run pinned to it: status says so, and `tju builds` says to keep A's workers.
  expect((await tju(['status', 'test.mixed-billing', '--date', '2026-12-20'], env)).stdout).toContain(
    `pinned to build ${deployment}:A (Worker Versioning)`,
  );
  const keep = await until(
    () => tju(['builds'], env),
    (r) => r.stdout.includes('A: 1 running workflow(s) pinned: keep its workers'),
    'build A kept',
  );
  expect(keep.stdout).toContain('B: current (new runs start here)');

  // Resumed, the run finishes on A — every job it starts now pinned to A too — while B is current.
  await onA.resume();
  expect(await onA.result()).toMatchObject({ total: 30, succeeded: 30, canary: { targets: 5 } });
  expect(await buildsOfRun('2026-12-20')).toEqual(new Set([`${deployment}:A`]));
  expect(await invoiceCounts(h.pool, '2026-12-20')).toMatchObject({ invoices: 30, duplicates: 0 });
  await until(
    () => tju(['builds'], env),
    (r) => r.stdout.includes('A: drained, nothing pinned to it: its workers can stop'),
    'build A drained',
  );
  await a.stop();
  await b.stop();
});

it('refuses half a deployment version and an unknown deployment in one line', async () => {
  const half = await tju(['worker', '--build-id', 'A'], h.env);
  expect(half).toMatchObject({ code: 2 });
  expect(half.stderr.trim()).toBe('tju: Worker Versioning needs both --deployment (TJU_DEPLOYMENT) and --build-id (TJU_BUILD_ID)');
  const unknown = await tju(['builds', '--deployment', 'no-such-deployment'], h.env);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
  expect(unknown.stderr).toContain('no Worker Deployment no-such-deployment');
});
