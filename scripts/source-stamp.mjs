// What a build was made from: every file under src/ (path, size, mtime) plus the build's own
// settings, hashed. `npm run build` writes it to dist/.build-stamp; bin/postroom.js and `npm start`
// compare it with the checkout to tell a stale build. A stat walk of ~200 files takes a few ms.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Besides src/, the files whose change changes the build. */
const BUILD_INPUTS = ['tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs', 'scripts/build-ui.mjs'];

export function stampPath(root) {
  return join(root, 'dist', '.build-stamp');
}

export function sourceStamp(root) {
  const hash = createHash('sha256');
  const add = (path) => {
    const { size, mtimeMs } = statSync(path);
    hash.update(`${relative(root, path)}\0${size}\0${mtimeMs}\n`);
  };
  for (const entry of readdirSync(join(root, 'src'), { recursive: true, withFileTypes: true }).sort((a, b) => join(a.parentPath ?? a.path, a.name).localeCompare(join(b.parentPath ?? b.path, b.name)))) {
    if (entry.isFile()) add(join(entry.parentPath ?? entry.path, entry.name));
  }
  for (const input of BUILD_INPUTS) add(join(root, input));
  return hash.digest('hex');
}

/** True when dist/ was built from exactly the sources the checkout has now. */
export function buildIsCurrent(root) {
  try {
    return readFileSync(stampPath(root), 'utf8').trim() === sourceStamp(root);
  } catch {
    return false;
  }
}
