/**
 * The web UI's script and stylesheet. The built server (dist/) reads the two files `npm run build`
 * bundled into dist/ui/, so no bundler runs at start; running from the TypeScript sources (tests,
 * tsx) they are built in memory from client/ instead, so they are never older than the sources.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { UiAssets } from './bundle.ts';

export type { UiAssets } from './bundle.ts';

/** dist/api/ui/ui-assets.js -> dist/ui/. */
const BUILT = new URL('../../ui/', import.meta.url);

let assets: Promise<UiAssets> | undefined;

async function readBuilt(): Promise<UiAssets> {
  try {
    const [js, css] = await Promise.all([readFile(new URL('app.js', BUILT), 'utf8'), readFile(new URL('app.css', BUILT), 'utf8')]);
    return { js, css };
  } catch (error) {
    throw new Error(`the web UI bundle is missing from ${fileURLToPath(BUILT)} (${(error as Error).message}): run npm run build`);
  }
}

export function uiAssets(): Promise<UiAssets> {
  if (import.meta.url.endsWith('.ts')) return import('./bundle.ts').then((bundle) => bundle.uiAssets());
  assets ??= readBuilt().catch((error: unknown) => {
    assets = undefined;
    throw error;
  });
  return assets;
}
