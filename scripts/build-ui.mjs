// Bundles the web UI (src/api/ui/client/, TypeScript + Preact) into dist/ui/app.js and app.css
// with the same esbuild settings the server uses when it runs from the TypeScript sources, so the
// built server only reads two files: esbuild is needed at build time, not at start.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const { buildUi } = await import('../dist/api/ui/bundle.js');
const { js, css } = await buildUi();
const out = join(root, 'dist', 'ui');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'app.js'), js);
writeFileSync(join(out, 'app.css'), css);
