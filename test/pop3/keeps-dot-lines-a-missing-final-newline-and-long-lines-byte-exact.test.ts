import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sha256 } from '../support/corpus.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { bySubject, pop3Connection, readDelivered, runOnce, testConfig, type Workspace, workspace } from '../support/postroom.ts';

const CRLF = '\r\n';
/** A line far beyond RFC 5322's 998 characters, with no newline at all. */
const LONG_LINE_BYTES = 100 * 1024;

function head(subject: string, contentType: string, extra: string[] = []): string {
  return [
    'From: "Postroom Test" <sender@postroom.test>',
    'To: receiver@postroom.test',
    `Subject: ${subject}`,
    'Date: Tue, 01 Jul 2025 10:00:00 +0000',
    `Message-ID: <${sha256(subject).slice(0, 16)}@postroom.test>`,
    'MIME-Version: 1.0',
    `Content-Type: ${contentType}`,
    ...extra,
  ].join(CRLF);
}

interface Case {
  subject: string;
  raw: Buffer;
  /** sha256 per delivered part, body first. */
  parts: string[];
}

/** The body as Postroom emits it: UTF-8, LF line endings. */
const asBody = (text: string): string => sha256(Buffer.from(text.replaceAll(CRLF, '\n'), 'utf8'));

function dotsWithoutFinalNewline(): Case {
  const subject = 'Dot lines, no final newline';
  const body = ['.starts with a dot', '..two dots', '.', '...', ' .not at the start', '', 'the last line has no newline'].join(CRLF);
  return {
    subject,
    raw: Buffer.from(`${head(subject, 'text/plain; charset=utf-8', ['Content-Transfer-Encoding: 8bit'])}${CRLF}${CRLF}${body}`, 'utf8'),
    parts: [asBody(body)],
  };
}

function longLineWithoutFinalNewline(): Case {
  const subject = 'One long line, no final newline';
  const body = `.${'x'.repeat(LONG_LINE_BYTES)}`;
  return {
    subject,
    raw: Buffer.from(`${head(subject, 'text/plain; charset=utf-8', ['Content-Transfer-Encoding: 8bit'])}${CRLF}${CRLF}${body}`, 'utf8'),
    parts: [asBody(body)],
  };
}

function dotsAndLongLineInAttachments(): Case {
  const subject = 'Dot lines and a long line in attachments';
  const boundary = '=_dots_boundary';
  const dots = Buffer.from(['.', '..', '.hidden line', 'end with a dot.', '.\r', 'last'].join(CRLF), 'latin1');
  const long = Buffer.from(`.${'y'.repeat(LONG_LINE_BYTES)}`, 'latin1');
  const text = 'See the attachments.\r\n';
  const part = (headers: string[], content: Buffer | string): string => `${headers.join(CRLF)}${CRLF}${CRLF}${content.toString()}`;
  const body = [
    '',
    `--${boundary}`,
    part(['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 7bit'], text),
    `--${boundary}`,
    part(['Content-Type: text/plain; charset=us-ascii', 'Content-Transfer-Encoding: 7bit', 'Content-Disposition: attachment; filename="dots.txt"'], dots),
    `--${boundary}`,
    part(['Content-Type: text/plain; charset=us-ascii', 'Content-Transfer-Encoding: 8bit', 'Content-Disposition: attachment; filename="long.txt"'], long),
    `--${boundary}--`,
    '',
  ].join(CRLF);
  return {
    subject,
    raw: Buffer.from(`${head(subject, `multipart/mixed; boundary="${boundary}"`)}${CRLF}${body}`, 'latin1'),
    parts: [asBody(text), sha256(dots), sha256(long)],
  };
}

describe('POP3 wire framing', () => {
  let dovecot: Dovecot;
  const workspaces: Workspace[] = [];
  const cases = [dotsWithoutFinalNewline(), longLineWithoutFinalNewline(), dotsAndLongLineInAttachments()];

  before(async () => {
    dovecot = await startDovecot();
  });
  after(async () => {
    await dovecot?.stop();
    for (const ws of workspaces) await ws.dispose();
  });

  for (const secure of [false, true]) {
    it(`delivers dot-stuffed lines, a missing final newline and 100 KB lines byte-exact (${secure ? 'implicit TLS' : 'plain'})`, async () => {
      const name = secure ? 'framing-tls' : 'framing-plain';
      const user = await dovecot.addUser(name, `secret-${name}`);
      await dovecot.deliverMany(
        user.name,
        cases.map((c) => c.raw),
      );
      const ws = await workspace();
      workspaces.push(ws);
      const config = testConfig(ws, [pop3Connection(dovecot, user, secure ? {} : { port: dovecot.pop3Port, useSsl: false })]);

      const { polls } = await runOnce(config);
      const outcome = polls.get('inbox');
      assert.equal(outcome?.status, 'done', JSON.stringify(outcome));
      const groups = bySubject(await readDelivered(ws.outDir));
      for (const c of cases) {
        const got = groups.get(c.subject) ?? [];
        assert.deepEqual(
          got.map((d) => d.envelope.kind),
          ['body', ...Array(c.parts.length - 1).fill('attachment')],
          c.subject,
        );
        assert.deepEqual(
          got.map((d) => d.sha256),
          c.parts,
          `${c.subject}: byte-exact`,
        );
      }
      assert.deepEqual(await dovecot.listMessages(user.name), []);
    });
  }
});
