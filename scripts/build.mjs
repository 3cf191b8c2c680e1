// `npm run build`: compiles src/ into dist/ (tsc), bundles the web UI into dist/ui/, then writes
// dist/.build-stamp (what it was built from). With --if-stale it does nothing when the stamp
// matches the checkout (`npm start`, bin/postroom.js, the tests). One build at a time: a second
// process waits for the first one's lock, then finds the build current.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildIsCurrent, sourceStamp, stampPath } from './source-stamp.mjs';

const root = join(import.meta.dirname, '..');
const lock = join(root, 'dist', '.build-lock');
/** A build takes about 10 s (tsc); a lock older than this many waits is given up on as left behind. */
const LOCK_WAIT_MS = 180_000;
const LOCK_POLL_MS = 200;
const ifStale = process.argv.includes('--if-stale');

function say(line) {
  process.stderr.write(`postroom build: ${line}\n`);
}

function lockHolderAlive() {
  try {
    process.kill(Number(readFileSync(join(lock, 'pid'), 'utf8')), 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** Takes the build lock; false when another build finished meanwhile and made this one needless. */
function takeLock() {
  const until = Date.now() + LOCK_WAIT_MS;
  mkdirSync(join(root, 'dist'), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      return true;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    if (!lockHolderAlive() || Date.now() > until) {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, LOCK_POLL_MS);
    if (ifStale && buildIsCurrent(root)) return false;
  }
}

function step(name, args) {
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    say(`${name} failed (exit ${result.status ?? result.signal}); fix the errors above, then run npm run build`);
    process.exit(1);
  }
}

if (ifStale && buildIsCurrent(root)) process.exit(0);
if (takeLock()) {
  try {
    // Stamped with the sources as they were when the build began: a file saved during it makes the next start build again.
    const stamp = sourceStamp(root);
    rmSync(stampPath(root), { force: true });
    step('tsc', [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json']);
    step('the web UI bundle', [join(root, 'scripts', 'build-ui.mjs')]);
    writeFileSync(stampPath(root), stamp);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
