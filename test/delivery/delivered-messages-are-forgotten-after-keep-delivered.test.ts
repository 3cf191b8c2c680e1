import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeDestination, type Outbox, outbox } from './delivery-kit.ts';

const HOUR = 3_600_000;

describe('delivered pipeline messages', () => {
  let box: Outbox;
  let dir: string;

  before(async () => {
    box = await outbox();
    dir = await mkdtemp(join(tmpdir(), 'postroom-forget-'));
  });
  after(async () => {
    await box?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('leave the outbox once older than keepDelivered, and stay in the destination', async () => {
    const loop = box.loop({ files: makeDestination('files', { type: 'directory', path: dir }) }, { keepDeliveredMs: HOUR });
    const first = await box.enqueue('files', [{ content: Buffer.from('body one') }, { content: Buffer.from('attachment one') }]);
    await loop.drain();
    const state = async (id: string) => (await box.opened.store.getOutboxMessage(id))?.state;
    for (const envelope of first) assert.equal(await state(envelope.id), 'delivered');

    box.clock.advance(HOUR / 2);
    const second = await box.enqueue('files', [{ content: Buffer.from('body two') }]);
    await loop.drain();
    for (const envelope of first) assert.equal(await state(envelope.id), 'delivered', 'half an hour old: still kept');

    box.clock.advance(HOUR);
    const third = await box.enqueue('files', [{ content: Buffer.from('body three') }]);
    await loop.drain();
    for (const envelope of first) assert.equal(await state(envelope.id), undefined, 'an hour and a half old: forgotten');
    assert.equal(await state(second[0]!.id), 'delivered', 'an hour old exactly: kept');
    assert.equal(await state(third[0]!.id), 'delivered');

    const files = await readdir(dir);
    for (const envelope of [...first, ...second, ...third]) {
      assert.ok(files.includes(`${envelope.id}.json`) && files.includes(`${envelope.id}.data`), 'the destination keeps every message');
    }
  });
});
