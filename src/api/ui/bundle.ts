/**
 * Builds the web UI (TypeScript + Preact under client/) into one JS and one CSS file with esbuild,
 * in memory: `npm run build` writes the result into dist/ui/ (scripts/build-ui.mjs), and the
 * server running from the TypeScript sources (tests, tsx) builds it once per process.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export interface UiAssets {
  js: string;
  css: string;
}

let built: Promise<UiAssets> | undefined;

/** The entry point: beside this file when run from src/, else the shipped sources (run from dist/). */
function entryPoint(): string {
  const candidates = [new URL('./client/main.ts', import.meta.url), new URL('../../../src/api/ui/client/main.ts', import.meta.url)];
  const found = candidates.map((url) => fileURLToPath(url)).find((path) => existsSync(path));
  if (!found) throw new Error(`the web UI sources are missing (looked for ${candidates.map((url) => fileURLToPath(url)).join(', ')})`);
  return found;
}

export async function buildUi(): Promise<UiAssets> {
  const result = await build({
    entryPoints: [entryPoint()],
    bundle: true,
    write: false,
    format: 'esm',
    target: 'es2022',
    minify: true,
    outdir: 'ui',
    logLevel: 'silent',
    legalComments: 'none',
  });
  const js = result.outputFiles.find((file) => file.path.endsWith('.js'))?.text ?? '';
  const css = result.outputFiles.find((file) => file.path.endsWith('.css'))?.text ?? '';
  return { js, css };
}

export function uiAssets(): Promise<UiAssets> {
  built ??= buildUi().catch((error: unknown) => {
    built = undefined;
    throw error;
  });
  return built;
}
