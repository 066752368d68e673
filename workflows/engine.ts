import { ENGINE } from '../src/contracts/types';

/**
 * Refuses a workflow that an earlier engine started. tju 0.1's workflows issued other commands (and no
 * `engine` field): replaying one here would end in a nondeterminism error that says nothing of why. Thrown
 * before any command, this fails the workflow task with a message instead, and Temporal retries the task, so
 * a 0.1 worker can still finish the run, or an operator can cancel it.
 */
export function refuseEarlierEngine(input: { engine?: number }, what: string): void {
  if (input.engine === ENGINE) return;
  throw new Error(
    `this ${what} was started by tju 0.1, which tju 0.2 cannot run: finish it on a 0.1 worker or cancel it ` +
      '(`tju runs` lists the runs still going), then upgrade (CHANGELOG.md: Upgrading to 0.2)',
  );
}
