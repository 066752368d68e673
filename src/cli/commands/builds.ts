import type { Command } from 'commander';
import type { CliApp } from '../app';
import { UserError } from '../../errors';
import { buildsOf, describeBuild } from '../../temporal/deployments';
import { jsonOption, printJson } from '../format';
import { withSession } from '../session';

/** `tju builds`: a Worker Deployment's builds, which is current, and which can stop (nothing pinned to them). */
export function registerBuilds(program: Command, app: CliApp): void {
  jsonOption(
    program
      .command('builds')
      .description(
        'Worker Versioning: each build of the deployment, the current one, and which builds are drained (their workers can stop)',
      )
      .option('--deployment <name>', 'the Worker Deployment (TJU_DEPLOYMENT)'),
  ).action(async (flags: { deployment?: string; json?: boolean }) => {
    const deployment = flags.deployment ?? process.env.TJU_DEPLOYMENT;
    if (!deployment) throw new UserError('name the Worker Deployment: --deployment <name> (or TJU_DEPLOYMENT)');
    const builds = await withSession(app, ({ client }) => buildsOf(client, deployment));
    if (flags.json) return printJson(builds);
    if (builds.length === 0) console.log(`${deployment}: no build has polled yet`);
    for (const build of builds) console.log(describeBuild(build));
  });
}
