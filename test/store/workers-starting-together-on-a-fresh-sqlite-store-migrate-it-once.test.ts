/**
 * Several workers started at the same moment on a fresh SQLite store (a cluster's first start, a
 * systemd unit with several instances): each opens the store and migrates it. Found by the soak:
 * two of them both ran migration 001 and both exited ("table leases already exists"). Now one
 * migrates while the others wait, and every process opens the store.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { pathToFileURL } from 'node:url';

const OPEN_STORE = pathToFileURL(join(import.meta.dirname, '../../src/store/open-store.ts')).href;
const WORKERS = 4;
const ROUNDS = 3;

function openInChild(dataDir: string): Promise<{ code: number | null; stderr: string }> {
  const script = `const { openStore } = await import(${JSON.stringify(OPEN_STORE)}); const opened = await openStore(${JSON.stringify(dataDir)}); await opened.store.close();`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

it(`${WORKERS} processes opening one fresh SQLite store at once all open it, ${ROUNDS} times over`, async () => {
  for (let round = 0; round < ROUNDS; round += 1) {
    const dataDir = await mkdtemp(join(tmpdir(), 'postroom-migrate-race-'));
    try {
      const results = await Promise.all(Array.from({ length: WORKERS }, () => openInChild(dataDir)));
      for (const result of results) assert.equal(result.code, 0, `a worker could not open the store: ${result.stderr.slice(-500)}`);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }
});
