/**
 * The choice for an email whose MIME cannot be split: it is DELIVERED, as one pipeline message of
 * kind `original` (the raw .eml, content type message/rfc822, file name original.eml) whose
 * envelope carries `parseError`, not kept back in the dead letters. The receiver has the email
 * at once, byte for byte, and can tell from the envelope that it was not split; the email is
 * acknowledged on the server like any other, since nothing of it is lost.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dovecotAndWorkspace } from '../support/dovecot-and-workspace.ts';
import { imapConnection, readDelivered, runOnce, testConfig } from '../support/postroom.ts';
import { sha256 } from './delivery-kit.ts';

const CRLF = '\r\n';
/** multipart/mixed without a boundary parameter: no parser can find its parts. */
const NO_BOUNDARY = Buffer.from(
  [
    'From: "Sender" <sender@postroom.test>',
    'To: receiver@postroom.test',
    'Subject: an email nobody can split',
    'Message-ID: <no-boundary@postroom.test>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed',
    '',
    '--B',
    'Content-Type: application/octet-stream; name="order.bin"',
    'Content-Transfer-Encoding: base64',
    '',
    'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=',
    '--B--',
    '',
  ].join(CRLF),
);

const { dovecot, ws } = await dovecotAndWorkspace();

describe('an email whose MIME cannot be parsed', () => {
  it('is delivered as one pipeline message of kind original: the raw bytes, byte-exact, with the parse error in the envelope', async () => {
    const user = await dovecot.addUser('malformed', 'secret-malformed');
    await dovecot.deliver(user.name, NO_BOUNDARY);
    const [onServer] = await dovecot.listMessages(user.name, { source: true });
    assert.deepEqual(onServer?.source, NO_BOUNDARY, 'the server holds the bytes as given');

    const { polls, delivery } = await runOnce(testConfig(ws, [imapConnection(dovecot, user)]));
    assert.equal(polls.get('inbox')?.status, 'done');
    assert.deepEqual(delivery, { delivered: 1, retried: 0, dead: 0 }, 'delivered, not a dead letter');

    const delivered = await readDelivered(ws.outDir);
    assert.equal(delivered.length, 1, 'one pipeline message for the whole email');
    const [original] = delivered;
    assert.equal(original!.envelope.kind, 'original');
    assert.equal(original!.envelope.filename, 'original.eml');
    assert.equal(original!.envelope.contentType, 'message/rfc822');
    assert.match(original!.envelope.parseError ?? '', /\S/, 'the envelope says why it was not split');
    assert.deepEqual(original!.data, NO_BOUNDARY, 'the raw email, byte-exact');
    assert.equal(original!.envelope.sha256, sha256(NO_BOUNDARY));
    assert.equal(original!.envelope.email.subject, 'an email nobody can split', 'the headers still describe it');

    const [after] = await dovecot.listMessages(user.name);
    assert.ok(after?.flags.includes('\\Seen'), 'acknowledged like any other email: nothing of it is lost');
  });
});
