/** Compiles src/ as `npm run build` does, into bench-results/build/, so drains run the CLI `npm start` runs. */
import { execFile } from 'node:child_process';
import { access, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './child-process.ts';

export const BUILD_DIR = join(REPO_ROOT, 'bench-results', 'build');
export const BUILT_ENTRY = join(BUILD_DIR, 'cli', 'main.js');

const run = promisify(execFile);

/** True when the built CLI is there to run; false (and said) when it cannot be built. */
export async function buildCli(say: (text: string) => void): Promise<boolean> {
  await rm(BUILD_DIR, { recursive: true, force: true });
  const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  // Type errors still emit JavaScript; only a missing entry point means there is nothing to run.
  await run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', BUILD_DIR], { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 }).catch(
    () => undefined,
  );
  const built = await access(BUILT_ENTRY).then(
    () => true,
    () => false,
  );
  if (!built) say('could not build the CLI: memory is measured for the checkout only');
  return built;
}

export const BASELINE_BUILD_DIR = join(REPO_ROOT, 'bench-results', 'build-baseline');
export const BASELINE_ENTRY = join(BASELINE_BUILD_DIR, 'cli', 'main.js');

/**
 * BENCH_BASELINE=<git ref>: that commit's src/ compiled too (into bench-results/build-baseline,
 * which finds the same node_modules), so a change is measured against what it replaces in the
 * same run, interleaved, on the same mailbox.
 */
export async function buildBaseline(ref: string): Promise<void> {
  await rm(BASELINE_BUILD_DIR, { recursive: true, force: true });
  const checkout = await mkdtemp(join(tmpdir(), 'postroom-bench-baseline-'));
  try {
    await run('bash', ['-c', `git -C "$0" archive "$1" src package.json tsconfig.json tsconfig.build.json | tar -x -C "$2"`, REPO_ROOT, ref, checkout]);
    await symlink(join(REPO_ROOT, 'node_modules'), join(checkout, 'node_modules'));
    await mkdir(BASELINE_BUILD_DIR, { recursive: true });
    const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', BASELINE_BUILD_DIR], { cwd: checkout, maxBuffer: 16 * 1024 * 1024 }).catch(
      () => undefined,
    );
    await access(BASELINE_ENTRY);
  } finally {
    await rm(checkout, { recursive: true, force: true });
  }
}
