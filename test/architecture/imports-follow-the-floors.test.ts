/**
 * The folders of src/ are floors: each imports only from the floors below it (type-only and
 * dynamic imports included), so a lower floor can be read, tested and loaded without the ones
 * above. Folders on the same floor stand side by side and do not import each other.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { REPO_ROOT } from '../support/cli.ts';

/** Bottom to top; the README's architecture section says what each floor owns. */
const FLOORS: string[][] = [
  ['model'],
  ['net'],
  ['config'],
  ['throttle', 'filter'],
  ['auth', 'mime', 'store'],
  ['sources'],
  ['engine'],
  ['destinations'],
  ['api'],
  ['service'],
  ['cli'],
];

const SRC = join(REPO_ROOT, 'src');

function floorOf(folder: string): number {
  return FLOORS.findIndex((floor) => floor.includes(folder));
}

function sourceFiles(): string[] {
  return readdirSync(SRC, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Every relative module a file names: import, import type, export … from, import(). */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles.map((imported) => imported.fileName).filter((name) => name.startsWith('.'));
}

const topFolder = (file: string): string => relative(SRC, file).split(sep)[0]!;

test('every file of src/ lives on a floor', () => {
  const homeless = sourceFiles()
    .filter((file) => floorOf(topFolder(file)) < 0)
    .map((file) => relative(REPO_ROOT, file));
  assert.deepEqual(homeless, [], 'these files are in no floor folder: move them into one, or add the folder to FLOORS');
});

test('no import goes up a floor or sideways to another folder of the same floor', () => {
  const wrong: string[] = [];
  for (const file of sourceFiles()) {
    const from = topFolder(file);
    for (const spec of importsOf(file)) {
      const target = resolve(dirname(file), spec);
      if (!target.startsWith(SRC + sep)) continue;
      const to = topFolder(target);
      if (to === from) continue;
      if (floorOf(to) >= floorOf(from)) wrong.push(`${relative(REPO_ROOT, file)} imports ${spec} (${from} may not import ${to})`);
    }
  }
  assert.deepEqual(wrong, [], 'imports against the floor order');
});

test('the check reads type-only and dynamic imports too', () => {
  const names = ts
    .preProcessFile("import type { A } from './a.ts';\nexport { B } from './b.ts';\nconst c = await import('./c.ts');", true, true)
    .importedFiles.map((f) => f.fileName);
  assert.deepEqual(names, ['./a.ts', './b.ts', './c.ts']);
});
