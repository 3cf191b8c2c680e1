/**
 * An email of any size used to be split in memory (a 100 MB one-line HTML body peaked at 649 MB).
 * One over maxEmailBytes (the connection's, else limits.maxEmailBytes, default 100 MB) is not
 * parsed: it is delivered whole as kind original, its envelope saying it was over the limit and
 * which setting raises it, and only then marked seen.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configSchema, DEFAULT_MAX_EMAIL_BYTES } from '../../src/config/schema.ts';
import { sha256 } from '../support/corpus.ts';
import { dovecotAndWorkspace } from '../support/dovecot-and-workspace.ts';
import { imapConnection, readDelivered, runOnce, testConfig } from '../support/postroom.ts';

const LIMIT = 4096;
const SMALL = ['From: a@postroom.test', 'To: b@postroom.test', 'Subject: small', '', 'a small email', ''].join('\r\n');
const LARGE = ['From: a@postroom.test', 'To: b@postroom.test', 'Subject: large', 'Content-Type: text/html', '', `<p>${'x'.repeat(LIMIT * 2)}</p>`, ''].join(
  '\r\n',
);

const { dovecot, ws } = await dovecotAndWorkspace();

describe('an email over maxEmailBytes', () => {
  for (const where of ['connection', 'limits'] as const) {
    it(`is delivered whole as the original, with the reason, when ${where === 'connection' ? 'the connection' : 'limits.maxEmailBytes'} sets the limit`, async () => {
      const user = await dovecot.addUser(`over-${where}`, 'secret-over');
      await dovecot.deliverMany(user.name, [SMALL, LARGE]);
      const connection = imapConnection(dovecot, user, where === 'connection' ? { name: `over-${where}`, maxEmailBytes: LIMIT } : { name: `over-${where}` });
      const config = testConfig(ws, [connection], where === 'limits' ? { limits: { maxEmailBytes: LIMIT } } : {});
      const { polls, delivery } = await runOnce(config);
      assert.equal(polls.get(`over-${where}`)?.status, 'done', JSON.stringify(polls.get(`over-${where}`)));
      assert.equal(delivery.dead, 0);

      const delivered = (await readDelivered(ws.outDir)).filter((item) => item.envelope.connection === `over-${where}`);
      const small = delivered.filter((item) => item.envelope.email.subject === 'small');
      assert.deepEqual(
        small.map((item) => item.envelope.kind),
        ['body'],
      );
      const large = delivered.filter((item) => item.envelope.kind === 'original');
      assert.equal(large.length, 1);
      assert.equal(delivered.length, 2, 'the large email yields the original only');
      assert.equal(large[0]!.sha256, sha256(Buffer.from(LARGE)), 'byte-exact');
      assert.match(large[0]!.envelope.parseError ?? '', new RegExp(`over the ${LIMIT}-byte limit \\(maxEmailBytes\\).*raise maxEmailBytes`));
      for (const message of await dovecot.listMessages(user.name)) assert.ok(message.flags.includes('\\Seen'));
    });
  }

  it('is 100 MB unless the config says otherwise', () => {
    const config = configSchema.parse({
      destinations: { out: { type: 'directory', path: '/tmp/out' } },
      connections: [{ name: 'a', hostType: 'imap', host: 'h', username: 'u', password: 'p' }],
    });
    assert.equal(DEFAULT_MAX_EMAIL_BYTES, 100 * 1024 * 1024);
    assert.equal(config.connections[0]!.maxEmailBytes, DEFAULT_MAX_EMAIL_BYTES);
    assert.equal(config.connections[0]!.maxPartsPerEmail, 500);
  });
});
