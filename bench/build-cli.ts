/** Compiles src/ as `npm run build` does, into bench-results/build/, so drains run the CLI `npm start` runs. */
import { execFile } from 'node:child_process';
import { access, rm } from 'node:fs/promises';
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
  await run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', BUILD_DIR], { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 }).catch(() => undefined);
  const built = await access(BUILT_ENTRY).then(
    () => true,
    () => false,
  );
  if (!built) say('could not build the CLI: memory is measured for the checkout only');
  return built;
}
