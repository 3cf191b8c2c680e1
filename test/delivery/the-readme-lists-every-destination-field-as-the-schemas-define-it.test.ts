/**
 * The README's "Destination fields" is generated from the zod schemas that validate the config:
 * this fails when a schema changed and the README was not regenerated, or when a field has no
 * description (so a new field cannot go undocumented).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { REPO_ROOT } from '../support/cli.ts';

const SCRIPT = join(REPO_ROOT, 'scripts', 'destination-reference.mjs');

function check(readme = join(REPO_ROOT, 'README.md')): { status: number | null; stderr: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, '--check', '--readme', readme], { cwd: REPO_ROOT, encoding: 'utf8' });
  return { status: run.status, stderr: run.stderr };
}

it('README.md lists every destination field with its type, default and description, as the schemas say', () => {
  const { status, stderr } = check();
  assert.equal(status, 0, stderr);
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  for (const row of [
    '| `secret` | text or list of text |',
    '| `tls.ca` | text |',
    '| `maxInlineBytes` | integer | `262144` |',
    '| `format` | `raw` \\| `cloudevents` \\| `cloudevents-structured` | `raw` |',
  ]) {
    assert.ok(readme.includes(row), `README has ${row}`);
  }
  assert.match(
    readme,
    /\| `tls\.ca` \| text \| {2}\| CA certificate\(s\) to trust: PEM text .*or in postroom\.yaml the path of a PEM file/,
    'tls.ca says it takes PEM text or a path',
  );
});

it('the check fails when the README no longer matches', () => {
  const dir = mkdtempSync(join(tmpdir(), 'postroom-readme-'));
  try {
    const copy = join(dir, 'README.md');
    writeFileSync(
      copy,
      readFileSync(join(REPO_ROOT, 'README.md'), 'utf8').replace('| `maxInlineBytes` | integer | `262144` |', '| `maxInlineBytes` | integer | `1` |'),
    );
    const { status, stderr } = check(copy);
    assert.equal(status, 1);
    assert.match(stderr, /differ from the schemas: run `node --import tsx scripts\/destination-reference\.mjs --write`/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
