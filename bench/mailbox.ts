/**
 * The benchmark mailbox: N generated emails, the same bytes on every run (seeded), written once
 * as Maildir files and hard-linked into a user's Maildir before each run, so every run (Postroom
 * or the raw client, IMAP or POP3) starts from the identical, freshly indexed mailbox in a blink.
 *
 *   60%  text and/or HTML bodies of 2–20 KB
 *   30%  a short body and 1–3 attachments of 20–500 KB (incompressible bytes)
 *   10%  odd ones from the test corpus: non-UTF-8 charsets, nested message/rfc822, inline
 *        images, a calendar invite, encoded file names, a missing closing boundary
 */
import { createWriteStream } from 'node:fs';
import { chown, link, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { buildCorpus, type CorpusEmail, largeAttachmentEmail, makeEmail, pseudoRandomBytes } from '../test/support/corpus.ts';
import { seededRandom } from '../test/support/seeded-random.ts';

const KB = 1024;
const BODY_MIN = 2 * KB;
const BODY_MAX = 20 * KB;
const ATTACHMENT_MIN = 20 * KB;
const ATTACHMENT_MAX = 500 * KB;
/** Out of every 10 emails: 6 plain, 3 with attachments, 1 odd (the 60/30/10). */
const PLAIN_PER_10 = 6;
const ATTACHMENTS_PER_10 = 3;
const ODD_NAMES = [
  'charset-iso-8859-1',
  'charset-windows-1252',
  'charset-shift-jis',
  'nested-rfc822',
  'inline-image',
  'calendar-invite',
  'rfc2231-filenames',
  'encoded-word-filenames',
  'missing-filenames',
  'malformed-missing-closing-boundary',
];
const ATTACHMENT_TYPES = ['application/pdf', 'image/png', 'application/zip', 'application/octet-stream'];
const WORDS =
  'order invoice shipment pallet quantity delivery customer account balance payment reference item total tax net due date please confirm attached regards'.split(
    ' ',
  );

export interface Mailbox {
  /** Directory of Maildir message files, owned by the mail owner. */
  dir: string;
  files: string[];
  emails: number;
  bytes: number;
  /** Pipeline messages a drain with body + attachments produces. */
  messages: number;
}

function between(random: () => number, min: number, max: number): number {
  return Math.floor(min + random() * (max - min + 1));
}

function prose(random: () => number, bytes: number): string {
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    const words = Array.from({ length: between(random, 6, 14) }, () => WORDS[Math.floor(random() * WORDS.length)]!);
    const line = `${words.join(' ')} ${between(random, 1, 99_999)}.`;
    lines.push(line);
    size += line.length + 1;
  }
  return `${lines.join('\n')}\n`;
}

/** The index-th email of the benchmark mailbox. */
export function benchEmail(index: number, odd: ReadonlyMap<string, CorpusEmail>): CorpusEmail {
  const random = seededRandom(index + 1);
  const kind = index % 10;
  const subject = `bench ${String(index).padStart(6, '0')}`;
  if (kind < PLAIN_PER_10) {
    const size = between(random, BODY_MIN, BODY_MAX);
    const shape = index % 3;
    const text = shape === 1 ? undefined : prose(random, size);
    const html = shape === 0 ? undefined : `<html><body><p>${prose(random, size).replace(/\n/g, '</p>\n<p>')}</p></body></html>\n`;
    return makeEmail({ subject, ...(text !== undefined ? { text } : {}), ...(html !== undefined ? { html } : {}) });
  }
  if (kind < PLAIN_PER_10 + ATTACHMENTS_PER_10) {
    const count = between(random, 1, 3);
    const attachments = Array.from({ length: count }, (_, part) => ({
      filename: `document-${index}-${part + 1}.bin`,
      content: pseudoRandomBytes(between(random, ATTACHMENT_MIN, ATTACHMENT_MAX), `${subject}/${part}`),
      contentType: ATTACHMENT_TYPES[(index + part) % ATTACHMENT_TYPES.length]!,
    }));
    return makeEmail({ subject, text: prose(random, KB), attachments });
  }
  return odd.get(ODD_NAMES[Math.floor(index / 10) % ODD_NAMES.length]!)!;
}

/**
 * Dovecot's Maildir name: unique, with the size (S) and the CRLF size (W, equal here: the emails
 * are CRLF already), so neither IMAP nor POP3 has to read a file just to learn its size.
 */
function maildirName(index: number, size: number): string {
  return `${1_700_000_000 + index}.M${index}P1.bench,S=${size},W=${size}`;
}

/** Writes the N emails once into `dir`, owned like the user's Maildir. */
export async function writeMailbox(dir: string, count: number, owner: { uid: number; gid: number }): Promise<Mailbox> {
  await mkdir(dir, { recursive: true });
  const odd = new Map(buildCorpus().map((email) => [email.name, email]));
  const files: string[] = [];
  let bytes = 0;
  let messages = 0;
  for (let index = 0; index < count; index += 1) {
    const email = benchEmail(index, odd);
    const name = maildirName(index, email.raw.length);
    await writeFile(join(dir, name), email.raw);
    await chown(join(dir, name), owner.uid, owner.gid);
    files.push(name);
    bytes += email.raw.length;
    messages += email.expected.parts.length;
  }
  return { dir, files, emails: count, bytes, messages };
}

/** One email with a `size`-byte attachment, streamed to disk (never whole in memory). */
export async function writeLargeEmail(dir: string, size: number, owner: { uid: number; gid: number }): Promise<Mailbox> {
  await mkdir(dir, { recursive: true });
  const temp = join(dir, 'large.tmp');
  await pipeline(largeAttachmentEmail(size), createWriteStream(temp));
  const bytes = (await stat(temp)).size;
  const name = maildirName(0, bytes);
  await rename(temp, join(dir, name));
  await chown(join(dir, name), owner.uid, owner.gid);
  return { dir, files: [name], emails: 1, bytes, messages: 2 };
}

/**
 * Empties the user's Maildir (mail and Dovecot's index, so the next session starts fresh) and
 * hard-links the mailbox into new/. No session may be open on it.
 */
export async function resetMaildir(maildir: string, mailbox: Mailbox): Promise<void> {
  const owner = await stat(maildir);
  await rm(maildir, { recursive: true, force: true });
  for (const sub of ['', 'cur', 'new', 'tmp']) {
    await mkdir(join(maildir, sub), { mode: 0o700 });
    await chown(join(maildir, sub), owner.uid, owner.gid);
  }
  await Promise.all(mailbox.files.map((name) => link(join(mailbox.dir, name), join(maildir, 'new', name))));
}

export async function ownerOf(path: string): Promise<{ uid: number; gid: number }> {
  const { uid, gid } = await stat(path);
  return { uid, gid };
}

/** Files left in a directory, for checks. */
export async function countFiles(dir: string, suffix: string): Promise<number> {
  try {
    return (await readdir(dir)).filter((name) => name.endsWith(suffix) && !name.startsWith('.')).length;
  } catch {
    return 0;
  }
}
