// The operator's recipe with the real `temporal` CLI: find a run's failed jobs by query, fix the cause,
// reset one job, and see it succeed with exactly one effect.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { issueInvoices } from '../examples/billing/batches/issue-invoices';
import { listFailures } from '../src/db/ledger';
import { ensureTemporalCli } from '../src/temporal/devServer';
import { startHarness, type Harness } from './helpers/harness';
import { insertNoFeeSubscriptions, insertSubscriptions } from './helpers/billing';

const run = promisify(execFile);
let h: Harness;
let temporal: (...args: string[]) => Promise<string>;

beforeAll(async () => {
  h = await startHarness([issueInvoices]);
  const binary = ensureTemporalCli();
  temporal = async (...args) =>
    (await run(binary, [...args, '--address', h.address, '--namespace', h.namespace], { timeout: 30_000 })).stdout;
});
afterAll(() => h.close());

it('lists failed jobs by query, then resets one after the fix and it succeeds once', async () => {
  const date = '2026-11-01';
  await insertSubscriptions(h.pool, 5);
  const [broken] = await insertNoFeeSubscriptions(h.pool);
  expect(await (await h.tju.trigger('billing.issue-invoices', { date })).result()).toMatchObject({ failed: 1 });

  const listed = JSON.parse(
    await temporal(
      'workflow',
      'list',
      '-o',
      'json',
      '--query',
      `TjuBatch='billing.issue-invoices' AND TjuRunKey='${date}' AND ExecutionStatus='Failed' AND TaskQueue='${h.taskQueue}'`,
    ),
  ) as Array<{ execution: { workflowId: string } }>;
  const jobId = `billing.issue-invoices/${date}/${broken}`;
  expect(listed.map((wf) => wf.execution.workflowId)).toEqual([jobId]);

  // Fix the data, then rerun the job from its start.
  await h.pool.query('UPDATE subscriptions SET monthly_fee = 12.5 WHERE id = $1', [broken]);
  await temporal('workflow', 'reset', '--workflow-id', jobId, '--type', 'FirstWorkflowTask', '--reason', 'monthly fee fixed');

  expect(await h.client.workflow.getHandle(jobId).result()).toEqual({ outcome: 'succeeded' });
  const invoices = await h.pool.query('SELECT amount FROM invoices WHERE subscription_id = $1', [broken]);
  expect(invoices.rows).toEqual([{ amount: '12.50' }]);
  expect(await listFailures(h.pool, { batch: 'billing.issue-invoices', runKey: date })).toEqual([]); // resolved by the success

  // Resetting it again changes nothing twice: the ledger makes the unit a no-op.
  await temporal('workflow', 'reset', '--workflow-id', jobId, '--type', 'FirstWorkflowTask', '--reason', 'again');
  expect(await h.client.workflow.getHandle(jobId).result()).toEqual({ outcome: 'skipped' });
  expect((await h.pool.query('SELECT 1 FROM invoices WHERE subscription_id = $1', [broken])).rowCount).toBe(1);
});
