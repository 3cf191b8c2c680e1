import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { systemClock } from '../../src/model/clock.ts';
import { holdsWithin } from '../support/wait-for.ts';
import type { ManualClock } from './delivery-kit.ts';
import { makeDestination, type Outbox, outbox } from './delivery-kit.ts';
import { startReceiver, type WebhookReceiver } from './webhook-receiver.ts';

/** More messages for the hanging webhook than a lane has slots, all due before the file. */
const HANGING_MESSAGES = 12;
/** The webhook's timeout: far longer than the wait below, so only a free slot can explain a delivery. */
const WEBHOOK_TIMEOUT = '60s';
const WAIT_FOR_FILE_MS = 15_000;

describe('a destination that hangs', () => {
  let receiver: WebhookReceiver;
  let box: Outbox;
  let dir: string;

  before(async () => {
    receiver = await startReceiver();
    const clock: ManualClock = { ...systemClock, advance: () => {} };
    box = await outbox(clock);
    dir = await mkdtemp(join(tmpdir(), 'postroom-lanes-'));
  });
  after(async () => {
    receiver?.release(200);
    await box?.dispose();
    await receiver?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('does not stop delivery to the other destinations', async () => {
    const slow = makeDestination('slow', { type: 'webhook', url: receiver.url, timeout: WEBHOOK_TIMEOUT });
    const files = makeDestination('files', { type: 'directory', path: dir });
    receiver.otherwise('hang');
    for (let i = 0; i < HANGING_MESSAGES; i++) await box.enqueue('slow', [{ content: Buffer.from(`stuck ${i}`) }]);
    await delay(5);
    const [file] = await box.enqueue('files', [{ content: Buffer.from('must not wait for the webhook') }]);

    const loop = box.loop({ slow, files });
    loop.start();
    await holdsWithin(async () => (await box.opened.store.getOutboxMessage(file!.id))?.state === 'delivered', WAIT_FOR_FILE_MS, 50);

    assert.equal((await box.opened.store.getOutboxMessage(file!.id))?.state, 'delivered', 'the directory destination got its message while the webhook hung');
    assert.ok((await readdir(dir)).includes(`${file!.id}.json`));
    assert.ok(receiver.hanging() > 0, 'the webhook is still hanging');
    assert.ok(receiver.hanging() < HANGING_MESSAGES, `the webhook holds only its own lane's slots (${receiver.hanging()} in flight)`);
    const stuck = await box.opened.store.outboxDepth('inbox');
    assert.equal(stuck, HANGING_MESSAGES, 'every webhook message is still pending, none lost');

    receiver.otherwise({ status: 200 });
    receiver.release(200);
    await loop.stop();
  });
});
