/**
 * The directory destination with content files from the embedded store: on the same file system
 * `.data` is a hard link to the content file (no second copy of the bytes); on another file
 * system (here tmpfs /dev/shm against the disk) it is a copy. Either way the bytes are exact,
 * they outlive the content file, and delivering the same id again leaves exactly two files.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { createDirectoryDestination } from '../../src/destinations/directory.ts';
import { type Envelope, pipelineMessageId } from '../../src/model/envelope.ts';
import { createFsContentStore } from '../../src/store/content/fs-content-store.ts';

const OTHER_FILE_SYSTEM = '/dev/shm';

async function isOtherFileSystem(): Promise<boolean> {
  try {
    return (await stat(OTHER_FILE_SYSTEM)).dev !== (await stat(tmpdir())).dev;
  } catch {
    return false;
  }
}

const otherFileSystem = await isOtherFileSystem();

function envelopeFor(bytes: Buffer, uid: number): Envelope {
  return {
    id: pipelineMessageId('links', `imap:INBOX:1:${uid}`, 1),
    connection: 'links',
    kind: 'attachment',
    filename: 'report.pdf',
    contentType: 'application/pdf',
    size: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    partIndex: 1,
    source: { protocol: 'imap', folder: 'INBOX', uidValidity: '1', uid },
    email: { messageId: `<${uid}@links>`, from: null, to: [], cc: [], subject: 'links', date: null },
    receivedAt: new Date(0).toISOString(),
  };
}

describe('the directory destination with local content files', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  async function deliverFrom(
    contentRoot: string,
    uid: number,
  ): Promise<{ dataPath: string; contentIno: number; out: string; bytes: Buffer; again: () => Promise<void> }> {
    const out = await mkdtemp(join(tmpdir(), 'postroom-dir-out-'));
    dirs.push(out);
    const contents = createFsContentStore(contentRoot);
    const bytes = randomBytes(300_000);
    const written = await contents.write(Readable.from([bytes]));
    const destination = createDirectoryDestination('out', { type: 'directory', path: out, format: 'raw' }, { log: pino({ level: 'silent' }) });
    const message = { envelope: envelopeFor(bytes, uid), openContent: () => contents.open(written.ref), contentFile: contents.filePath!(written.ref)! };
    await destination.deliver(message);
    await destination.flush!();
    const contentIno = (await stat(contents.filePath!(written.ref)!)).ino;
    await contents.remove(written.ref);
    return {
      dataPath: join(out, `${message.envelope.id}.data`),
      contentIno,
      out,
      bytes,
      again: async () => {
        await destination.deliver(message);
      },
    };
  }

  it('links .data to the content file on the same file system, and the bytes outlive the content file', async () => {
    const root = await mkdtemp(join(tmpdir(), 'postroom-dir-content-'));
    dirs.push(root);
    const { dataPath, contentIno, bytes } = await deliverFrom(root, 1);
    assert.ok((await readFile(dataPath)).equals(bytes), 'byte-exact after the content file is removed');
    assert.equal((await stat(dataPath)).ino, contentIno, 'the same file, not a copy');
  });

  it('copies .data when the content lives on another file system', {
    skip: !otherFileSystem && `${OTHER_FILE_SYSTEM} is not a separate file system here`,
  }, async () => {
    const root = await mkdtemp(join(OTHER_FILE_SYSTEM, 'postroom-dir-content-'));
    dirs.push(root);
    const { dataPath, contentIno, bytes } = await deliverFrom(root, 2);
    assert.ok((await readFile(dataPath)).equals(bytes), 'byte-exact');
    assert.notEqual((await stat(dataPath)).ino, contentIno, 'a copy');
  });

  it('delivering the same id again (after a crash) leaves exactly .data and .json', async () => {
    const root = await mkdtemp(join(tmpdir(), 'postroom-dir-content-'));
    dirs.push(root);
    const out = await mkdtemp(join(tmpdir(), 'postroom-dir-out-'));
    dirs.push(out);
    const contents = createFsContentStore(root);
    const bytes = randomBytes(50_000);
    const written = await contents.write(Readable.from([bytes]));
    const destination = createDirectoryDestination('out', { type: 'directory', path: out, format: 'raw' }, { log: pino({ level: 'silent' }) });
    const envelope = envelopeFor(bytes, 3);
    // Linked, then linked again (the same file), then copied over it (content opened afresh).
    await destination.deliver({ envelope, openContent: () => contents.open(written.ref), contentFile: contents.filePath!(written.ref)! });
    await destination.deliver({ envelope, openContent: () => contents.open(written.ref), contentFile: contents.filePath!(written.ref)! });
    await destination.deliver({ envelope, openContent: () => contents.open(written.ref) });
    assert.deepEqual((await readdir(out)).sort(), [`${envelope.id}.data`, `${envelope.id}.json`]);
    assert.ok((await readFile(join(out, `${envelope.id}.data`))).equals(bytes));
  });
});
