import os from 'node:os';

/** Who an action from the CLI is recorded as: the operating system's user at this host. */
export function cliActor(): string {
  let user = process.env.USER ?? 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // no passwd entry (a container's arbitrary uid): the environment's word
  }
  return `cli:${user}@${os.hostname()}`;
}
