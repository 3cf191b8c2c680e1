#!/usr/bin/env -S node --max-semi-space-size=8
// --max-semi-space-size=8 (MB; V8's default on 64-bit is 16): a smaller young generation, so the
// garbage of emails in flight is collected sooner. Measured with `npm run bench` (README,
// Performance): peak RSS taking a 100 MB attachment over IMAP 156-162 MB -> 135-140, an empty
// poll 117 -> 108, with no change in CPU per email. `npm start` runs node with the same flag.
// The `postroom` command: runs the compiled JavaScript in dist/. In a checkout (src/ is there) it
// first checks, with a stat of each source file (a few ms), that dist/ was built from the sources
// as they are now, and rebuilds it when not (about 10 s, said on stderr), so it never runs a stale build.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (existsSync(join(root, 'src', 'cli', 'main.ts'))) {
  const { buildIsCurrent } = await import('../scripts/source-stamp.mjs');
  if (!buildIsCurrent(root)) {
    if (!existsSync(join(root, 'node_modules', 'typescript'))) {
      process.stderr.write('postroom: dist/ is missing or older than src/, and the build tools are not installed: run npm ci, which builds it\n');
      process.exit(2);
    }
    process.stderr.write('postroom: src/ changed since the last build (or nothing is built yet): building dist/ first, about 10 s\n');
    const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--if-stale'], { cwd: root, stdio: ['ignore', 2, 2] });
    if (build.status !== 0) process.exit(2);
  }
}
await import(pathToFileURL(join(root, 'dist', 'cli', 'main.js')).href);
