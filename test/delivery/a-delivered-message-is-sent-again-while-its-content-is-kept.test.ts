/**
 * Replay of a delivered pipeline message, for when a downstream system lost it: while its content
 * is kept (outbox.keepDeliveredContent) it goes to its destination again with the same id; once
 * that time is up the content file is removed, a replay says why it cannot send it and what to
 * set, and the row is forgotten after keepDelivered as before. Without the setting, content goes
 * at delivery, as it always did.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ContentStore } from '../../src/model/content-store.ts';
import { sourceKeyString } from '../../src/model/source-key.ts';
import { makeDestination, type Outbox, outbox } from './delivery-kit.ts';

const HOUR = 3_600_000;

async function contentExists(contents: ContentStore, ref: string): Promise<boolean> {
  return new Promise((resolve) => {
    const stream = contents.open(ref);
    stream.once('error', () => resolve(false));
    stream.once('readable', () => {
      stream.destroy();
      resolve(true);
    });
  });
}

describe('a delivered pipeline message', () => {
  let box: Outbox;
  let dir: string;

  before(async () => {
    box = await outbox();
    dir = await mkdtemp(join(tmpdir(), 'postroom-send-again-'));
  });
  after(async () => {
    await box?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('goes again with the same id while its content is kept, then its content and its row go', async () => {
    const loop = box.loop({ files: makeDestination('files', { type: 'directory', path: dir }) }, { keepDeliveredMs: 3 * HOUR, keepDeliveredContentMs: HOUR });
    const [body] = await box.enqueue('files', [{ content: Buffer.from('the invoice body') }]);
    await loop.drain();
    const delivered = (await box.opened.store.getOutboxMessage(body!.id))!;
    assert.equal(delivered.state, 'delivered');
    assert.equal(delivered.contentUntil, box.clock.now() + HOUR, 'its content is kept for an hour');
    assert.ok(await contentExists(box.opened.content, delivered.contentRef), 'the content file is still there');

    // The downstream system lost it: the file is gone from the destination too.
    await rm(join(dir, `${body!.id}.data`));
    await rm(join(dir, `${body!.id}.json`));
    box.clock.advance(HOUR / 2);
    const [again] = await loop.replay([body!.id], 'the CLI');
    assert.equal(again?.outcome, 'delivered');
    assert.equal(await readFile(join(dir, `${body!.id}.data`), 'utf8'), 'the invoice body', 'delivered again under the same id');
    const replayed = (await box.opened.store.getOutboxMessage(body!.id))!;
    assert.equal(replayed.state, 'delivered');
    assert.equal(replayed.contentUntil, box.clock.now() + HOUR, 'kept for another hour from the new delivery');
    const trail = (await box.opened.store.emailTrail(body!.connection, sourceKeyString(body!.source)))!;
    assert.deepEqual(
      trail.attempts.map((attempt) => [attempt.outcome, attempt.outcome === 'replayed' ? attempt.detail : '']),
      [
        ['delivered', ''],
        ['replayed', 'the CLI'],
        ['delivered', ''],
      ],
    );

    // Past the hour: an idle round lets the content go; a replay then says why it cannot.
    box.clock.advance(HOUR + 1);
    await loop.drain();
    const expired = (await box.opened.store.getOutboxMessage(body!.id))!;
    assert.equal(expired.contentUntil, null);
    assert.equal(await contentExists(box.opened.content, expired.contentRef), false, 'the content file is removed');
    const [gone] = await loop.replay([body!.id], 'the API');
    assert.equal(gone?.outcome, 'content-gone');
    assert.match(gone?.error ?? '', /outbox\.keepDeliveredContent ran out/);
    assert.equal((await box.opened.store.getOutboxMessage(body!.id))?.state, 'delivered', 'nothing changed');

    // keepDelivered after the last delivery: the row is forgotten as any delivered one.
    box.clock.advance(3 * HOUR);
    await loop.drain();
    assert.equal(await box.opened.store.getOutboxMessage(body!.id), undefined);
  });

  it('cannot go again when content is removed at delivery (the default), and the reason names the setting', async () => {
    const loop = box.loop({ files: makeDestination('files', { type: 'directory', path: dir }) });
    const [body] = await box.enqueue('files', [{ content: Buffer.from('removed at once') }]);
    await loop.drain();
    const delivered = (await box.opened.store.getOutboxMessage(body!.id))!;
    assert.equal(delivered.contentUntil, null);
    assert.equal(await contentExists(box.opened.content, delivered.contentRef), false, 'content goes at delivery');
    const [outcome] = await loop.replay([body!.id], 'the API');
    assert.equal(outcome?.outcome, 'content-gone');
    assert.match(outcome?.error ?? '', /set outbox\.keepDeliveredContent/);
  });
});
