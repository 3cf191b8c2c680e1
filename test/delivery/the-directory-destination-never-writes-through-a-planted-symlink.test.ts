/**
 * The directory destination often writes into a directory other local users can write to, and
 * pipeline message ids can be worked out from earlier envelopes. A symlink planted at any name
 * the destination might use (its old predictable temp names, random-looking temp names, the
 * final names) must not redirect a write: the link's target stays as it was, and the delivery
 * is complete and byte-exact, whether `.data` is linked from the content file or copied.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { createDirectoryDestination, directoryOptions } from '../../src/destinations/directory.ts';
import { type Envelope, pipelineMessageId } from '../../src/model/envelope.ts';
import { createFsContentStore } from '../../src/store/content/fs-content-store.ts';

const VICTIM_BYTES = 'root:x:0:0:root:/root:/bin/bash\n';

function envelopeFor(bytes: Buffer, uid: number): Envelope {
  return {
    id: pipelineMessageId('planted', `imap:INBOX:1:${uid}`, 0),
    connection: 'planted',
    kind: 'body',
    filename: 'body.txt',
    contentType: 'text/plain',
    size: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    partIndex: 0,
    source: { protocol: 'imap', folder: 'INBOX', uidValidity: '1', uid },
    email: { messageId: `<${uid}@planted>`, from: null, to: [], cc: [], subject: 'planted', date: null },
    receivedAt: new Date(0).toISOString(),
  };
}

describe('the directory destination and planted symlinks', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  for (const mode of ['linked', 'copied'] as const) {
    it(`leaves the symlinks' target unchanged and delivers completely (.data ${mode})`, async () => {
      const root = await mkdtemp(join(tmpdir(), 'postroom-planted-'));
      dirs.push(root);
      const out = join(root, 'out');
      const victim = join(root, 'victim');
      await writeFile(victim, VICTIM_BYTES);
      const contents = createFsContentStore(join(root, 'content'));
      const bytes = Buffer.from(`attacker-chosen? no: the email ${randomBytes(8).toString('hex')}\n`);
      const written = await contents.write(Readable.from([bytes]));
      const envelope = envelopeFor(bytes, mode === 'linked' ? 1 : 2);
      const destination = createDirectoryDestination('out', directoryOptions.parse({ type: 'directory', path: out }), { log: pino({ level: 'silent' }) });
      // The directory exists (a first delivery made it); the attacker plants links in it.
      await destination.deliver({ envelope: envelopeFor(bytes, 99), openContent: () => contents.open(written.ref) });
      const planted = [`.${envelope.id}.data.tmp`, `.${envelope.id}.json.tmp`, `${envelope.id}.data`, `${envelope.id}.json`];
      for (let i = 0; i < 50; i++)
        planted.push(`.${envelope.id}.${randomBytes(8).toString('hex')}.tmp`, `.${envelope.id}.data.${randomBytes(8).toString('hex')}.tmp`);
      for (const name of planted) await symlink(victim, join(out, name));

      await destination.deliver({
        envelope,
        openContent: () => contents.open(written.ref),
        ...(mode === 'linked' ? { contentFile: contents.filePath!(written.ref)! } : {}),
      });
      await destination.flush!();

      assert.equal(await readFile(victim, 'utf8'), VICTIM_BYTES, 'the link target is unchanged');
      assert.ok((await readFile(join(out, `${envelope.id}.data`))).equals(bytes), '.data holds the content');
      assert.equal(JSON.parse(await readFile(join(out, `${envelope.id}.json`), 'utf8')).id, envelope.id, '.json holds the envelope');
      const leftovers = (await readdir(out)).filter((name) => name.startsWith('.') && !planted.includes(name));
      assert.deepEqual(leftovers, [], 'no temp file of ours is left behind');
    });
  }
});
