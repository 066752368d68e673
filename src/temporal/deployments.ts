import type { Client } from '@temporalio/client';
import { visibilityLiteral } from '../contracts/ids';
import { UserError } from '../errors';

/** One build of a Worker Deployment: whether new runs go to it, and how many workflows are still pinned to it. */
export interface BuildState {
  buildId: string;
  current: boolean;
  /** Running workflows pinned to the build (triggers, jobs, chunk jobs): its workers must stay until none is. */
  running: number;
}

/**
 * The builds of a Worker Deployment, from Temporal: its versions, the current one, and the running workflows
 * pinned to each (a visibility count, so a workflow that just ended may still count for a few seconds).
 */
export async function buildsOf(client: Client, deploymentName: string): Promise<BuildState[]> {
  const { namespace } = client.options;
  const described = await client.workflowService.describeWorkerDeployment({ namespace, deploymentName }).catch((err: Error) => {
    if (/not found/i.test(err.message)) throw new UserError(`no Worker Deployment ${deploymentName} in namespace ${namespace}`);
    throw err;
  });
  const info = described.workerDeploymentInfo;
  const current = info?.routingConfig?.currentDeploymentVersion?.buildId;
  const builds = (info?.versionSummaries ?? []).map((s) => s.deploymentVersion?.buildId).filter((b): b is string => !!b);
  return Promise.all(
    builds.map(async (buildId) => {
      const query = `TemporalWorkerDeploymentVersion = ${visibilityLiteral(`${deploymentName}:${buildId}`)} AND ExecutionStatus = 'Running'`;
      return { buildId, current: buildId === current, running: (await client.workflow.count(query)).count };
    }),
  );
}

/** What an operator does with a build: keep it while runs are pinned to it, stop its workers once none is. */
export function describeBuild(build: BuildState): string {
  const pinned = `${build.running} running workflow(s) pinned`;
  if (build.current) return `${build.buildId}: current (new runs start here), ${pinned}`;
  if (build.running > 0) return `${build.buildId}: ${pinned}: keep its workers until they finish (tju runs lists the runs)`;
  return `${build.buildId}: drained, nothing pinned to it: its workers can stop`;
}
