import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The project root: the nearest folder above this file holding package.json (same from src/ and dist/src/). */
export const projectRoot: string = (() => {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = parent;
  }
  return dir;
})();

/** Per-user cache shared by every clone: the built Temporal CLI, the demo's dev-server database. */
export function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return process.env.TJU_CACHE_DIR || path.join(base, 'tju');
}
