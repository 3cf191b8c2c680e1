/**
 * `./bin/postroom.js` in a checkout runs the compiled dist/, built from the sources as they are:
 * nothing built yet or a source changed, it says so and builds first (tsc and the web UI bundle);
 * built and unchanged, it starts straight away. Runs in a copy of the checkout.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { type CliResult, REPO_ROOT } from '../support/cli.ts';

/** A build (tsc + esbuild) on a busy 2-core machine. */
const BUILD_TIMEOUT_MS = 240_000;
let checkout: string;

before(async () => {
  checkout = await mkdtemp(join(tmpdir(), 'postroom-checkout-'));
  for (const entry of ['bin', 'scripts', 'src', 'tsconfig.json', 'tsconfig.build.json', 'package.json'])
    await cp(join(REPO_ROOT, entry), join(checkout, entry), { recursive: true });
  await symlink(join(REPO_ROOT, 'node_modules'), join(checkout, 'node_modules'));
});
after(async () => {
  if (checkout) await rm(checkout, { recursive: true, force: true });
});

function bin(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(checkout, 'bin', 'postroom.js'), ...args], { cwd: checkout, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), BUILD_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

it('builds dist/ (code and web UI) when nothing is built, then starts without building', async () => {
  const first = await bin(['--help']);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /building dist\/ first/);
  assert.match(first.stdout, /Usage: postroom/);
  assert.ok((await stat(join(checkout, 'dist', 'cli', 'main.js'))).isFile());
  assert.ok((await stat(join(checkout, 'dist', 'ui', 'app.js'))).size > 0, 'the web UI is bundled at build time');
  assert.ok((await stat(join(checkout, 'dist', 'ui', 'app.css'))).size > 0);

  const again = await bin(['--help']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stderr, '', 'a current build starts without building');
});

it('rebuilds when a source changed, and runs the new code', async () => {
  const file = join(checkout, 'src', 'cli', 'commands.ts');
  const source = await readFile(file, 'utf8');
  await writeFile(file, source.replace('check the configuration file and print what it means', 'check the config (changed)'));
  const result = await bin(['--help']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /src\/ changed since the last build/);
  assert.match(result.stdout, /check the config \(changed\)/);
});

it('the built server serves the web UI from the bundle the build wrote', async () => {
  const probe = `const { uiAssets } = await import(${JSON.stringify(join(checkout, 'dist', 'api', 'ui', 'ui-assets.js'))});
const { js } = await uiAssets();
const { readFileSync } = await import('node:fs');
process.stdout.write(String(js === readFileSync(${JSON.stringify(join(checkout, 'dist', 'ui', 'app.js'))}, 'utf8')));`;
  const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', probe], { cwd: tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('close', (code) => resolve({ code, out }));
  });
  assert.equal(result.code, 0, result.out);
  assert.equal(result.out, 'true');
});
