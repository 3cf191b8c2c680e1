/**
 * The script a user would write instead of Postroom: imapflow fetches every email, mailparser's
 * `simpleParser` parses it, the body and each attachment go to their own file. Nothing durable
 * (no fsync), no ledger, no exactly-once: the peer Postroom must outrun (issue 17).
 *
 *   node --import tsx bench/peers/naive-imapflow.ts '{"host":…,"port":…,"user":…,"password":…,"out":…,"ca":…}'
 *
 * Prints one JSON line: { messages, bytes, ms }.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { simpleParser } from 'mailparser';
import type { RawTarget } from '../raw/connect.ts';

const target = JSON.parse(process.argv[2]!) as RawTarget;
const started = performance.now();
const client = new ImapFlow({
  host: target.host,
  port: target.port,
  secure: true,
  tls: { ca: target.ca },
  auth: { user: target.user, pass: target.password },
  logger: false,
});
await client.connect();
const lock = await client.getMailboxLock('INBOX');
let messages = 0;
let bytes = 0;
try {
  for await (const message of client.fetch('1:*', { uid: true, source: true })) {
    if (!message.source) continue;
    messages += 1;
    bytes += message.source.length;
    const parsed = await simpleParser(message.source);
    const base = join(target.out, String(message.uid));
    if (parsed.html) await writeFile(`${base}.html`, parsed.html);
    if (parsed.text) await writeFile(`${base}.txt`, parsed.text);
    for (const [index, attachment] of parsed.attachments.entries()) await writeFile(`${base}.${index}.bin`, attachment.content);
  }
} finally {
  lock.release();
}
await client.logout();
process.stdout.write(`${JSON.stringify({ messages, bytes, ms: performance.now() - started })}\n`);
