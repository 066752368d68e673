import { InvalidArgumentError, type Command } from 'commander';
import type { CliApp } from '../app';
import { parseDuration } from '../../config';
import { UnreachableError, UserError } from '../../errors';
import { pruneRuns, type LiveRuns, type PruneCounts, type PruneScope } from '../../db/prune';
import { withDatabase, withSession } from '../session';

interface PruneFlags {
  olderThan?: string;
  batch?: string;
  yes?: boolean;
}

const days = (value: string) => {
  const ms = parseDuration(value);
  if (!ms) throw new InvalidArgumentError('expected a duration like 90d or 12h');
  return value;
};

const describe = (c: PruneCounts) =>
  `${c.batch}: ${c.runs} run(s), ${c.ledger} ledger row(s), ${c.failures} failure record(s), ${c.history} history row(s)`;

export function registerPrune(program: Command, app: CliApp): void {
  program
    .command('prune')
    .description('delete the ledger rows, failure records and run history of runs last active before a cutoff')
    .option('--older-than <duration>', 'cutoff for batches without a retention of their own, e.g. 90d', days)
    .option('--batch <name>', 'only this batch')
    .option('--yes', 'really delete; without it, only say what would be deleted')
    .action(async (flags: PruneFlags) => {
      const batches = flags.batch ? app.batches.filter((b) => b.name === flags.batch) : app.batches;
      if (flags.batch && batches.length === 0) throw new UserError(`no batch named ${flags.batch}`);
      const now = Date.now();
      const cutoff = (retention: string) => new Date(now - parseDuration(retention)!);
      // A batch's own retention wins; runs of batches this app no longer defines follow --older-than.
      const scopes: Array<PruneScope & { rule: string }> = [];
      for (const batch of batches) {
        const retention = batch.retention ?? flags.olderThan;
        if (retention) scopes.push({ before: cutoff(retention), batches: [batch.name], rule: retention });
      }
      if (!flags.batch && flags.olderThan) {
        scopes.push({ before: cutoff(flags.olderThan), except: app.batches.map((b) => b.name), rule: flags.olderThan });
      }
      if (scopes.length === 0) {
        throw new UserError('nothing to prune by: give --older-than <duration>, or set `retention` on a batch');
      }
      await withDatabase(app, async (pool) => {
        const live = await liveRuns(app);
        const found: PruneCounts[] = [];
        let kept = 0;
        for (const { rule, ...scope } of scopes) {
          const result = await pruneRuns(pool, scope, Boolean(flags.yes), app.config.schema, live);
          for (const counts of result.pruned) {
            console.log(`${flags.yes ? 'pruned' : 'would prune'} ${describe(counts)} (older than ${rule})`);
            found.push(counts);
          }
          kept += result.kept;
        }
        if (kept) console.log(`kept ${kept} old run(s) that are running, paused or not known to have ended`);
        if (found.length === 0) console.log('nothing to prune');
        else if (!flags.yes) console.log('add --yes to delete them');
      });
    });
}

/**
 * The runs Temporal runs a trigger of now. Without an answer from Temporal (unreachable), prune goes on with
 * what the run history recorded: only runs whose every start recorded its end.
 */
async function liveRuns(app: CliApp): Promise<LiveRuns | undefined> {
  try {
    return await withSession(app, ({ tju }) => tju.liveRuns());
  } catch (err) {
    if (!(err instanceof UnreachableError)) throw err;
    console.error(`tju: ${err.message}; pruning only runs whose end the run history recorded`);
    return undefined;
  }
}
