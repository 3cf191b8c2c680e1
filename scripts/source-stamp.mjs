// What a build was made from: one line per file under src/ (path, size, mtime) plus the build's
// own settings. `npm run build` writes it to dist/.build-stamp; bin/postroom.js and `npm start`
// compare it with the checkout to tell a stale build. A stat walk of ~200 files takes a few ms;
// the list is kept as text (no hash: loading node:crypto and ICU collation cost more than the walk).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Besides src/, the files whose change changes the build. */
const BUILD_INPUTS = ['tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs', 'scripts/build-ui.mjs'];

export function stampPath(root) {
  return join(root, 'dist', '.build-stamp');
}

export function sourceStamp(root) {
  const files = readdirSync(join(root, 'src'), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return [...files, ...BUILD_INPUTS.map((input) => join(root, input))]
    .map((path) => {
      const { size, mtimeMs } = statSync(path);
      return `${relative(root, path)} ${size} ${mtimeMs}\n`;
    })
    .join('');
}

/** True when dist/ was built from exactly the sources the checkout has now. */
export function buildIsCurrent(root) {
  try {
    return readFileSync(stampPath(root), 'utf8') === sourceStamp(root);
  } catch {
    return false;
  }
}
