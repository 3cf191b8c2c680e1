/**
 * The embedded store holds passwords (managed connections, the WAL) and whole emails: its
 * directories are 0700 and its files 0600 after a real run, whatever the umask, and a store
 * left readable by an older version is tightened when it is opened.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';
import { makeDestination, outbox } from '../delivery/delivery-kit.ts';

const modeOf = async (path: string): Promise<string> => ((await stat(path)).mode & 0o777).toString(8).padStart(4, '0');

async function walk(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    found.push(path);
    if (entry.isDirectory()) found.push(...(await walk(path)));
  }
  return found;
}

describe('the embedded store keeps its files to its owner', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('creates the data and content directories 0700 and the SQLite file, its WAL, SHM and content files 0600', async () => {
    const box = await outbox();
    try {
      const out = await mkdtemp(join(tmpdir(), 'postroom-modes-out-'));
      dirs.push(out);
      // Delivered: its content is gone. Pending (the webhook is closed): its content stays.
      await box.enqueue('out', [{ content: Buffer.from('delivered body') }]);
      await box.enqueue('nowhere', [{ content: Buffer.from('pending body') }, { content: Buffer.from('pending attachment') }]);
      const loop = box.loop({
        out: makeDestination('out', { type: 'directory', path: out }),
        nowhere: makeDestination('nowhere', { type: 'webhook', url: 'http://127.0.0.1:1/hook' }),
      });
      await loop.deliverDue();
      const dataDir = box.opened.dataDir;
      assert.equal(await modeOf(dataDir), '0700');
      const entries = await walk(dataDir);
      assert.ok(
        entries.some((p) => p.endsWith('postroom.sqlite-wal')),
        `a WAL exists: ${entries.join(', ')}`,
      );
      assert.ok(entries.filter((p) => p.includes('/content/') && !p.endsWith('/content')).length >= 2, 'content files exist');
      const wrong: string[] = [];
      for (const path of entries) {
        const isDir = (await stat(path)).isDirectory();
        const mode = await modeOf(path);
        if (mode !== (isDir ? '0700' : '0600')) wrong.push(`${path.slice(dataDir.length)} ${mode}`);
      }
      assert.deepEqual(wrong, [], 'every directory 0700, every file 0600');
    } finally {
      await box.dispose();
    }
  });

  it('tightens a store an older version left readable by others when it opens it', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'postroom-modes-old-'));
    dirs.push(dataDir);
    const first = await openStore(dataDir);
    await first.store.close();
    const contentFile = join(dataDir, 'content', 'ab', 'ab2c1f4e-0000-4000-8000-000000000000');
    await mkdir(join(dataDir, 'content', 'ab'), { recursive: true, mode: 0o755 });
    await writeFile(contentFile, 'an email', { mode: 0o644 });
    const { chmod } = await import('node:fs/promises');
    for (const path of [dataDir, join(dataDir, 'content')]) await chmod(path, 0o755);
    for (const path of [join(dataDir, 'postroom.sqlite'), contentFile]) await chmod(path, 0o644);

    const opened = await openStore(dataDir);
    try {
      assert.deepEqual(
        await Promise.all([dataDir, join(dataDir, 'content'), join(dataDir, 'content', 'ab'), join(dataDir, 'postroom.sqlite'), contentFile].map(modeOf)),
        ['0700', '0700', '0700', '0600', '0600'],
      );
    } finally {
      await opened.store.close();
    }
  });
});
