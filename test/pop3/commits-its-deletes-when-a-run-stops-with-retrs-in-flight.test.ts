import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectionSchema } from '../../src/config/schema.ts';
import { pop3Source } from '../../src/sources/pop3/pop3-source.ts';
import { isFetchFailure } from '../../src/sources/source.ts';
import { makeEmail, pseudoRandomBytes } from '../support/corpus.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { pop3Connection, quietLog } from '../support/postroom.ts';

/** Big enough that one read leaves most of it on the wire (and many socket chunks behind it). */
const BIG_ATTACHMENT_BYTES = 4 * 1024 * 1024;

describe('POP3 session stopped early (throttling, shutdown of a run)', () => {
  let dovecot: Dovecot;

  before(async () => {
    dovecot = await startDovecot();
  });
  after(async () => {
    await dovecot?.stop();
  });

  it('drops the replies nobody read, sends QUIT, and deletes exactly what was acknowledged', async () => {
    const user = await dovecot.addUser('early', 'secret-early');
    const small = Array.from({ length: 6 }, (_, i) => makeEmail({ subject: `small ${i}`, text: `small ${i}\n` }));
    const big = makeEmail({
      subject: 'big',
      text: 'big\n',
      attachments: [{ filename: 'big.bin', content: pseudoRandomBytes(BIG_ATTACHMENT_BYTES, 'big'), contentType: 'application/octet-stream' }],
    });
    // small 0, small 1, big, small 2..5: the run stops half-way into "big".
    await dovecot.deliverMany(user.name, [small[0]!.raw, small[1]!.raw]);
    await dovecot.deliver(user.name, big.raw);
    await dovecot.deliverMany(
      user.name,
      small.slice(2).map((e) => e.raw),
    );

    const connection = connectionSchema.parse(pop3Connection(dovecot, user, { port: dovecot.pop3Port, useSsl: false }));
    const session = await pop3Source.open(connection, { log: quietLog });
    const listing = await session.list(undefined);
    assert.equal(listing.emails.length, 7);
    assert.deepEqual(
      listing.presentKeys,
      listing.emails.map((e) => e.key),
    );
    assert.ok(
      listing.emails.every((e) => e.fingerprint && e.size),
      'every email has a size and a header fingerprint',
    );

    let taken = 0;
    for await (const fetched of session.fetch(listing.emails)) {
      assert.ok(!isFetchFailure(fetched));
      if (taken < 2) {
        const chunks: Buffer[] = [];
        for await (const chunk of fetched.content) chunks.push(chunk as Buffer);
        assert.deepEqual(Buffer.concat(chunks), small[taken]!.raw, `small ${taken} byte-exact`);
        await session.acknowledge([fetched.email.key]);
        taken += 1;
        continue;
      }
      // The big one: read a little, then give up, with more RETRs pipelined behind it.
      for await (const chunk of fetched.content) {
        assert.ok((chunk as Buffer).length > 0);
        break;
      }
      break;
    }
    await session.close();

    const left = await dovecot.listMessages(user.name, { source: true });
    assert.equal(left.length, 5, 'the two acknowledged emails are deleted, the rest stay');
    assert.deepEqual(
      left.map((m) => m.source!.equals(big.raw) || small.slice(2).some((e) => e.raw.equals(m.source!))),
      Array(5).fill(true),
    );
  });

  it('keeps every email when the session is aborted instead of closed', async () => {
    const user = await dovecot.addUser('aborted', 'secret-aborted');
    await dovecot.deliverMany(user.name, [makeEmail({ subject: 'a', text: 'a\n' }).raw, makeEmail({ subject: 'b', text: 'b\n' }).raw]);
    const connection = connectionSchema.parse(pop3Connection(dovecot, user));
    const session = await pop3Source.open(connection, { log: quietLog });
    const listing = await session.list(undefined);
    await session.acknowledge(listing.emails.map((e) => e.key));
    session.abort();
    assert.equal((await dovecot.listMessages(user.name)).length, 2, 'no QUIT, no delete');
  });
});
