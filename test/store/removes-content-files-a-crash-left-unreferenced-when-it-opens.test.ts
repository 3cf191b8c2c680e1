/**
 * A crash between writing content files and committing the rows that refer to them (or between
 * recording a delivery and removing its content) leaves files nobody will ever remove. Opening
 * the store sweeps them: a file no ledger or outbox row refers to and older than the safety
 * margin goes; a referenced one, and a fresh one a running worker may be about to commit, stay.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { openStore } from '../../src/store/open-store.ts';
import { outbox } from '../delivery/delivery-kit.ts';

const TWO_HOURS_AGO = new Date(Date.now() - 2 * 3600_000);

async function plant(root: string, age: Date): Promise<string> {
  const id = randomUUID();
  const ref = `${id.slice(0, 2)}/${id}`;
  await mkdir(join(root, id.slice(0, 2)), { recursive: true });
  await writeFile(join(root, ref), 'left by a crash');
  await utimes(join(root, ref), age, age);
  return join(root, ref);
}

const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

describe('opening the store sweeps orphaned content files', () => {
  it('removes an old unreferenced file, keeps referenced and fresh ones, and logs the count once', async () => {
    const box = await outbox();
    try {
      const [envelope] = await box.enqueue('out', [{ content: Buffer.from('still waiting for delivery') }]);
      const pending = await box.opened.store.getOutboxMessage(envelope!.id);
      const referenced = box.opened.content.filePath!(pending!.contentRef)!;
      const old = new Date(Date.now() - 2 * 3600_000);
      await utimes(referenced, old, old);
      const contentRoot = join(box.opened.dataDir, 'content');
      // The raw email is a piece of a segment file: the row names the piece, not the file.
      const rawRef = (await box.opened.store.findLedger('inbox', pending!.sourceKey))!.rawRef!;
      assert.match(rawRef, /@0\+\d+$/);
      const segment = join(contentRoot, rawRef.slice(0, rawRef.indexOf('@')));
      await utimes(segment, old, old);
      const orphan = await plant(contentRoot, TWO_HOURS_AGO);
      const fresh = await plant(contentRoot, new Date());
      await box.opened.store.close();

      const lines: string[] = [];
      const sink = new Writable({
        write: (chunk, _encoding, done) => {
          lines.push(String(chunk));
          done();
        },
      });
      const reopened = await openStore(box.opened.dataDir, { log: pino(sink) });
      await reopened.store.close();

      assert.equal(await exists(orphan), false, 'the orphan is gone');
      assert.equal(await exists(referenced), true, 'the referenced content stays');
      assert.equal(await exists(segment), true, 'a segment file a row refers to a piece of stays');
      assert.equal(await exists(fresh), true, 'a fresh file (a writer may be about to commit it) stays');
      const sweepLines = lines.filter((line) => line.includes('unreferenced content'));
      assert.equal(sweepLines.length, 1, lines.join(''));
      assert.equal(JSON.parse(sweepLines[0]!).removed, 1);
    } finally {
      await rm(box.opened.dataDir, { recursive: true, force: true });
    }
  });
});
