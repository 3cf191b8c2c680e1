/**
 * Raw emails that arrived whole are kept as pieces of shared segment files: a group of emails
 * makes one file and one fsync, not one of each per email. Each piece reads back byte for byte,
 * a segment's file goes with its last piece, and content too large to share keeps a file of its own.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { after, describe, it } from 'node:test';
import { createFsContentStore } from '../../src/store/content/fs-content-store.ts';
import { MAX_PIECE_BYTES, SEGMENT_BYTES } from '../../src/store/content/segment-files.ts';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

async function contentRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'postroom-segments-'));
  dirs.push(root);
  return root;
}

/** Every file under the content root (its two-hex-digit directories). */
async function filesUnder(root: string): Promise<string[]> {
  const files: string[] = [];
  for (const sub of await readdir(root)) for (const name of await readdir(join(root, sub))) files.push(`${sub}/${name}`);
  return files;
}

describe('small raw emails in shared segment files', () => {
  it('keeps 60 emails in a few files, reads each back whole, and leaves no file once every email is removed', async () => {
    const root = await contentRoot();
    const contents = createFsContentStore(root);
    const emails = Array.from({ length: 60 }, (_, index) => randomBytes(1 + ((index * 37_813) % 400_000)));
    const written = await Promise.all(emails.map((bytes) => contents.writeBytes!(bytes, { durable: false, packed: true })));
    await contents.makeDurable(written.map((piece) => piece.ref));

    const total = emails.reduce((sum, bytes) => sum + bytes.length, 0);
    const files = await filesUnder(root);
    assert.ok(files.length <= Math.ceil(total / SEGMENT_BYTES) + 1, `${files.length} files for ${emails.length} emails of ${total} bytes`);
    for (const [index, piece] of written.entries()) {
      assert.equal(piece.size, emails[index]!.length);
      assert.equal(contents.filePath!(piece.ref), undefined, 'a piece is never handed out as a file to link');
      assert.ok((await buffer(contents.open(piece.ref))).equals(emails[index]!), `email ${index} byte for byte`);
    }

    // Removed in an order unlike the writing's: files go only with their last piece.
    const order = written.map((piece, index) => ({ piece, key: (index * 7919) % written.length })).sort((a, b) => a.key - b.key);
    for (const [done, { piece }] of order.entries()) {
      await contents.remove(piece.ref);
      for (const left of order.slice(done + 1)) {
        const bytes = await buffer(contents.open(left.piece.ref));
        assert.ok(bytes.equals(emails[written.indexOf(left.piece)]!), `after ${done + 1} removals, a piece still kept still reads whole`);
      }
    }
    assert.deepEqual(await filesUnder(root), [], 'no file left');
  });

  it('starts a new file once every piece of the last one is removed, and gives large content a file of its own', async () => {
    const root = await contentRoot();
    const contents = createFsContentStore(root);
    const first = await contents.writeBytes!(Buffer.from('one small email'), { packed: true });
    const [segment] = await filesUnder(root);
    await contents.remove(first.ref);
    assert.deepEqual(await filesUnder(root), [], 'an emptied segment goes at once (a run --once leaves nothing behind)');
    const second = await contents.writeBytes!(Buffer.from('the next one'), { packed: true });
    assert.notEqual((await filesUnder(root))[0], segment);

    const empty = await contents.writeBytes!(Buffer.alloc(0), { packed: true });
    assert.ok(contents.filePath!(empty.ref), 'an empty email is a file of its own: a piece of nothing would share an offset');
    assert.equal((await buffer(contents.open(empty.ref))).length, 0);
    await contents.remove(empty.ref);

    const large = await contents.writeBytes!(randomBytes(MAX_PIECE_BYTES + 1), { packed: true });
    assert.ok(contents.filePath!(large.ref), 'content over MAX_PIECE_BYTES is a file of its own');
    await contents.remove(large.ref);
    await contents.remove(second.ref);
    assert.deepEqual(await filesUnder(root), []);
  });

  it('keeps raw emails as files of their own in a store that does not pack (a parse thread hands its files over)', async () => {
    const root = await contentRoot();
    const contents = createFsContentStore(root, { pack: false });
    const written = await contents.writeBytes!(Buffer.from('an email'), { packed: true });
    assert.ok(contents.filePath!(written.ref));
    await contents.remove(written.ref);
  });
});
