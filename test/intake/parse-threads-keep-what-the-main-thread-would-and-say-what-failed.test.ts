/**
 * The parse threads (engine/parse-threads.ts) against the real file system: an email kept and
 * split on a thread comes back with its content files written and still open for the group's
 * fsync, which the main thread's store then does; and a failure on the thread reaches the
 * pickup as what it is (a full disk is DISK_FULL, with the directory named; a path that cannot
 * be a directory keeps its errno code), since the pickup decides by those, not by the message.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { configSchema } from '../../src/config/schema.ts';
import { contentRefs, ingestEmail } from '../../src/engine/ingest-email.ts';
import { createParseThreads, threadsFor } from '../../src/engine/parse-threads.ts';
import { isPostroomError } from '../../src/model/errors.ts';
import { createFsContentStore } from '../../src/store/content/fs-content-store.ts';
import { buildCorpus } from '../support/corpus.ts';
import { smallDisk } from '../support/small-disk.ts';

const config = configSchema.parse({
  store: '/unused',
  destinations: { out: { type: 'directory', path: '/unused-out' } },
  connections: [{ name: 'inbox', hostType: 'imap', host: '127.0.0.1', port: 993, username: 'u', password: 'p', destination: 'out' }],
});
const connection = config.connections[0]!;
const email = (uid: number) => ({ key: { protocol: 'imap' as const, folder: 'INBOX', uidValidity: '1', uid } });
const withAttachment = buildCorpus().find((item) => item.expected.parts.length >= 2)!;

describe('parse threads', () => {
  const scratch = mkdtemp(join(tmpdir(), 'postroom-parse-threads-'));
  after(async () => rm(await scratch, { recursive: true, force: true }));

  it('keep and split an email as the main thread does, and hand its open files to the main store to make durable', async () => {
    const root = join(await scratch, 'content');
    const contents = createFsContentStore(root);
    const threads = createParseThreads(1, contents)!;
    try {
      const bytes = withAttachment.raw;
      const onThread = await threads.ingest(connection, email(7), bytes, 1_000);
      const onMain = await ingestEmail(connection, email(7), bytes, contents, 1_000);
      const strip = (parts: typeof onMain.split.parts) => parts.map(({ contentRef: _ref, ...rest }) => rest);
      assert.deepEqual(strip(onThread.split.parts), strip(onMain.split.parts), 'the same parts, sizes and hashes');
      assert.deepEqual(
        onThread.commit.messages.map((message) => message.envelope),
        onMain.commit.messages.map((message) => message.envelope),
        'the same envelopes, ids included',
      );
      assert.equal(onThread.raw.sha256, onMain.raw.sha256);
      // The thread's files are the main store's now: it makes them durable and reads them.
      await contents.makeDurable(contentRefs(onThread));
      for (const [index, part] of onThread.split.parts.entries()) {
        assert.deepEqual(await readFile(contents.filePath!(part.contentRef)!), await readFile(contents.filePath!(onMain.split.parts[index]!.contentRef)!));
      }
      assert.deepEqual(await readFile(contents.filePath!(onThread.raw.ref)!), bytes);
      for (const ref of [...contentRefs(onThread), ...contentRefs(onMain)]) await contents.remove(ref);
    } finally {
      await threads.close();
    }
  });

  it('say which error the thread met: an errno code stays on it', async () => {
    const file = join(await scratch, 'a-file');
    await writeFile(file, 'not a directory');
    const threads = createParseThreads(1, createFsContentStore(join(file, 'content')))!;
    try {
      await assert.rejects(threads.ingest(connection, email(8), withAttachment.raw, 1_000), (error: NodeJS.ErrnoException) => {
        assert.equal(error.code, 'ENOTDIR', error.message);
        assert.match(error.message, /a-file/, 'the path is named');
        return true;
      });
    } finally {
      await threads.close();
    }
  });

  it('say a full disk is DISK_FULL, naming the content directory', async (t) => {
    const disk = await smallDisk(1024 * 1024);
    if ('skip' in disk) return t.skip(disk.skip);
    const threads = createParseThreads(1, createFsContentStore(join(disk.path, 'content')))!;
    try {
      await disk.fill();
      await assert.rejects(threads.ingest(connection, email(9), withAttachment.raw, 1_000), (error: unknown) => {
        assert.ok(isPostroomError(error, 'DISK_FULL'), `a PostroomError DISK_FULL, not ${String(error)}`);
        assert.match((error as Error).message, /content directory/);
        assert.equal((error as { retryable: boolean }).retryable, true);
        return true;
      });
    } finally {
      await threads.close();
      await disk.dispose();
    }
  });

  it('are none on two cores unless asked for, and at most four when auto', () => {
    assert.equal(threadsFor('auto', 2), 0);
    assert.equal(threadsFor('auto', 4), 2);
    assert.equal(threadsFor('auto', 64), 4);
    assert.equal(threadsFor(3, 2), 3);
  });
});
