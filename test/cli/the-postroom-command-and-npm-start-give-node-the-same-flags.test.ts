/**
 * The memory figures in the README's Performance section were measured with node's flags as the
 * README's two commands give them: bin/postroom.js's shebang and `npm start`. The benchmark runs
 * the CLI with its own copy of them; all three must agree, or the figures describe a different
 * program from the one users run. And the shebang must really start: `env -S` splits it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { POSTROOM_NODE_FLAGS } from '../../bench/child-process.ts';
import { REPO_ROOT } from '../support/cli.ts';

test('bin/postroom.js, npm start and the benchmark give node the same flags, and the shebang runs', async () => {
  const shebang = (await readFile(join(REPO_ROOT, 'bin', 'postroom.js'), 'utf8')).split('\n')[0]!;
  const match = /^#!\/usr\/bin\/env -S node(?<flags>(?: --[\w-]+(?:=\S+)?)*)$/.exec(shebang);
  assert.ok(match, `the shebang runs node through env -S: ${shebang}`);
  const fromShebang = match.groups!.flags!.trim().split(' ').filter(Boolean);
  const start = (JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const fromStart = /^node((?: --[\w-]+(?:=\S+)?)*) dist\/cli\/main\.js run$/.exec(start)?.[1]?.trim().split(' ').filter(Boolean);
  assert.deepEqual(fromStart, fromShebang, `npm start (${start}) and the shebang differ`);
  assert.deepEqual(POSTROOM_NODE_FLAGS, fromShebang, 'bench/child-process.ts measures with other flags than users run');
  // Executed as a user runs it (not as `node bin/postroom.js`, which skips the shebang).
  const { stdout } = await promisify(execFile)(join(REPO_ROOT, 'bin', 'postroom.js'), ['--help'], { cwd: REPO_ROOT });
  assert.match(stdout, /^Usage: postroom/);
});
