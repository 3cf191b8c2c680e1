/**
 * Postroom replaces the line loop of mailsplit's MessageSplitter (src/mime/mailsplit-line-scan.ts)
 * with one that passes over plain body lines in one step. That is only worth having if nothing
 * changes: every email of the corpora, variants of them with other line endings, edge cases of
 * the splitter's limits and seeded random mutations, written in pieces of 1, 7, 100, 4096 and
 * 65536 bytes and whole, must come out of the replacement as the very same objects, in the same
 * order, as out of mailsplit's own loop: each MIME node (by identity order, with its headers) and
 * each data/body slice, byte for byte, and the same error where there is one.
 */
import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import mailsplit from '@zone-eu/mailsplit';
import { benchEmail } from '../../bench/mailbox.ts';
import { createEmailParser } from '../../src/mime/email-parser.ts';
import { lineScanApplies, originalTransform, scanningTransform } from '../../src/mime/mailsplit-line-scan.ts';
import { buildCorpus } from '../support/corpus.ts';
import { at, generator, MUTATIONS } from '../support/corpus-mutations.ts';
import { buildRealWorldCorpus } from '../support/real-world-corpus.ts';
import { BARE_CR_ATTACHMENT, BARE_CR_TEXT } from './bare-cr-emails.ts';

const PIECE_SIZES = [1, 7, 100, 4096, 65536, Number.POSITIVE_INFINITY];
/**
 * Each write costs the splitter a setImmediate, so 1-byte pieces (a pending line for every byte)
 * are written for the corpora as sent, as Postroom configures the splitter, and pieces so small
 * that an email takes more writes than this are left out: seconds rather than minutes.
 */
const MAX_WRITES = 5000;
const SEED = 20261203;
const MUTATION_CASES = 200;

/** mailparser hands its own options to the splitter; these are the ones the splitter reads. */
const CONFIGS: ReadonlyArray<{ name: string; config: Record<string, unknown> }> = [
  { name: 'as Postroom configures it', config: { ignoreEmbedded: true } },
  { name: 'splitting embedded emails', config: { defaultInlineEmbedded: true } },
  { name: 'with small limits', config: { maxChildNodes: 4, maxHeadSize: 600 } },
];

type Transform = NonNullable<typeof originalTransform>;

interface Pushed {
  type: string;
  /** The node, by the order nodes were first seen in. */
  node: number;
  value?: Buffer;
  /** For a node: its parent, its structure as mailsplit read it and its headers. */
  about?: string;
}

interface Run {
  pushed: Pushed[];
  outcome: string;
}

interface SplitNodeView {
  type: string;
  parentNode?: unknown;
  contentType?: unknown;
  multipart?: unknown;
  encoding?: unknown;
  messageNode?: unknown;
  partNr?: unknown;
  headers?: { build(): Buffer } | false;
}

function split(raw: Buffer, pieceSize: number, config: Record<string, unknown>, transform: Transform): Promise<Run> {
  // mailsplit declares only the 'data' event
  const splitter = new mailsplit.Splitter(config) as unknown as Duplex & { _transform: Transform };
  splitter._transform = transform;
  const nodes = new Map<unknown, number>();
  const id = (node: unknown): number => {
    if (!nodes.has(node)) nodes.set(node, nodes.size);
    return nodes.get(node)!;
  };
  const pushed: Pushed[] = [];
  splitter.on('data', (data: unknown) => {
    const chunk = data as { type: string; node?: unknown; value?: Buffer };
    if (chunk.type === 'node') {
      const node = data as SplitNodeView;
      const about = JSON.stringify({
        parent: node.parentNode ? id(node.parentNode) : null,
        contentType: node.contentType,
        multipart: node.multipart,
        encoding: node.encoding,
        messageNode: node.messageNode,
        partNr: node.partNr,
        headers: node.headers ? node.headers.build().toString('latin1') : null,
      });
      pushed.push({ type: 'node', node: id(node), about });
    } else {
      pushed.push({ type: chunk.type, node: id(chunk.node), ...(chunk.value ? { value: Buffer.from(chunk.value) } : {}) });
    }
  });
  const finished = new Promise<string>((resolve) => {
    splitter.on('end', () => resolve('end'));
    splitter.on('error', (error: Error & { code?: string }) => resolve(`error ${error.code ?? ''}: ${error.message}`));
  });
  const size = Math.min(pieceSize, Math.max(raw.length, 1));
  for (let start = 0; start < raw.length; start += size) splitter.write(raw.subarray(start, start + size));
  splitter.end();
  return finished.then((outcome) => ({ pushed, outcome }));
}

function show(entry: Pushed | undefined): string {
  if (!entry) return 'nothing';
  const value = entry.value ? ` ${JSON.stringify(entry.value.toString('latin1').slice(0, 200))} (${entry.value.length} bytes)` : '';
  return `${entry.type} of node ${entry.node}${value}${entry.about ? ` ${entry.about.slice(0, 300)}` : ''}`;
}

/** The first place the two runs differ, or undefined when they are the same. */
function difference(original: Run, scanned: Run): string | undefined {
  const length = Math.max(original.pushed.length, scanned.pushed.length);
  for (let index = 0; index < length; index += 1) {
    const a = original.pushed[index];
    const b = scanned.pushed[index];
    const same =
      a !== undefined &&
      b !== undefined &&
      a.type === b.type &&
      a.node === b.node &&
      a.about === b.about &&
      (a.value === undefined ? b.value === undefined : b.value !== undefined && a.value.equals(b.value));
    if (!same) return `object ${index}: mailsplit pushed ${show(a)}, the replacement ${show(b)}`;
  }
  if (original.outcome !== scanned.outcome) return `mailsplit ended with ${original.outcome}, the replacement with ${scanned.outcome}`;
  return undefined;
}

async function assertSame(name: string, raw: Buffer, oneBytePieces = false): Promise<void> {
  for (const [configIndex, { name: configName, config }] of CONFIGS.entries()) {
    for (const pieceSize of PIECE_SIZES) {
      const pieceFits = pieceSize === 1 ? oneBytePieces && configIndex === 0 : raw.length / pieceSize <= MAX_WRITES;
      if (!pieceFits) continue;
      const original = await split(raw, pieceSize, config, originalTransform!);
      const scanned = await split(raw, pieceSize, config, scanningTransform);
      const differs = difference(original, scanned);
      if (differs) assert.fail(`${name}, ${configName}, in pieces of ${pieceSize} bytes: ${differs}`);
    }
  }
}

/** The same email with other line endings: LF only, and CR CR LF (a second CRLF conversion). */
function lineEndingVariants(raw: Buffer): Array<[string, Buffer]> {
  const text = raw.toString('latin1');
  return [
    ['as sent', raw],
    ['LF only', Buffer.from(text.replace(/\r\n/g, '\n'), 'latin1')],
    ['CR CR LF', Buffer.from(text.replace(/\r\n/g, '\r\r\n'), 'latin1')],
  ];
}

const crlf = (...lines: string[]): string => lines.join('\r\n');

/** Where the splitter's own limits and special lines are: overlong lines, many parts, delimiters with whitespace, epilogues. */
function edgeCases(): Array<[string, Buffer]> {
  const head = (boundary: string): string =>
    crlf('From: a@postroom.test', 'Subject: edge', 'MIME-Version: 1.0', `Content-Type: multipart/mixed; boundary="${boundary}"`, '', '');
  const longLine = 'A'.repeat(70 * 1024);
  const cases: Array<[string, string | Buffer]> = [
    ['an overlong body line', crlf(head('b').trimEnd(), '', '--b', 'Content-Type: text/plain', '', longLine, 'next', '--b--', '')],
    ['an overlong body line ending in CR before the delimiter', `${head('b')}--b\r\nContent-Type: text/plain\r\n\r\n${longLine}\r\r\n--b--\r\n`],
    ['an overlong line without a line break at the end', `${head('b')}--b\r\nContent-Type: text/plain\r\n\r\nshort\r\n${longLine}`],
    ['an overlong line that looks like a delimiter', `${head('b')}--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b${' '.repeat(70 * 1024)}\r\n--b--\r\n`],
    [
      'more than 1000 parts',
      `${head('p')}${Array.from({ length: 1005 }, (_, n) => `--p\r\nContent-Type: text/plain\r\n\r\npart ${n}\r\nline\r\n`).join('')}--p--\r\n`,
    ],
    ['an overlong header', crlf('From: a@postroom.test', `X-Long: ${'h'.repeat(1_100_000)}`, '', 'body', '')],
    [
      'delimiters with whitespace, a leading CR and CR runs',
      `${head('ws')}preamble\r\n--ws  \t\r\nContent-Type: text/plain\r\n\r\none\r\n\r--ws\r\nContent-Type: text/plain\r\n\r\ntwo\r\n-- not it\r\n--wsx\r\n--ws--\r\r\r\nepilogue\r\n--ws\r\nstill epilogue\r\n`,
    ],
    [
      'an inner multipart never closed',
      `${head('outer')}--outer\r\nContent-Type: multipart/alternative; boundary="inner"\r\n\r\n--inner\r\nContent-Type: text/plain\r\n\r\ninner text\r\nmore\r\n--outer\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nQUJD\r\nREVG\r\n--outer--\r\n`,
    ],
    [
      'an embedded email inline',
      `${head('m')}--m\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\nSubject: inner\r\nContent-Type: multipart/mixed; boundary="n"\r\n\r\n--n\r\nContent-Type: text/plain\r\n\r\nhello\r\n-\r\n\r\n--n--\r\n--m--\r\n`,
    ],
    ['a body of empty lines and dashes', `${head('d')}--d\r\nContent-Type: text/plain\r\n\r\n${'\r\n-\r\n--\r\n---\r\n\n\r'.repeat(200)}--d--\r\n`],
    ['no header block end', 'From: a@postroom.test\r\nSubject: never ends'],
    ['nothing', ''],
  ];
  return cases.map(([name, raw]) => [name, typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw]);
}

describe('splits lines the same as mailsplit does, byte for byte', () => {
  it('replaces the line loop of the splitter mailparser uses', () => {
    assert.ok(lineScanApplies, 'the replacement applies to the installed mailsplit (a new version needs its _transform compared and copied again)');
    assert.equal(typeof originalTransform, 'function');
    assert.equal((mailsplit.Splitter.prototype as unknown as { _transform: unknown })._transform, scanningTransform);
    const { parser } = createEmailParser();
    assert.equal((parser as unknown as { splitter: { _transform: unknown } }).splitter._transform, scanningTransform, "mailparser's splitter");
  });

  it('for every corpus and real-world email, with each kind of line ending', async () => {
    const emails = [...buildCorpus(), ...buildRealWorldCorpus()];
    for (const email of emails) {
      for (const [ending, raw] of lineEndingVariants(email.raw)) await assertSame(`${email.name} (${ending})`, raw, raw === email.raw);
    }
  });

  it('for the bare-CR emails, as sent and as read', async () => {
    for (const [name, text] of [
      ['bare CR text', BARE_CR_TEXT],
      ['bare CR attachment', BARE_CR_ATTACHMENT],
    ] as const) {
      await assertSame(`${name} (as sent)`, Buffer.from(text, 'utf8'), true);
      await assertSame(`${name} (CR read as CRLF)`, Buffer.from(text.replace(/\r/g, '\r\n'), 'utf8'));
    }
  });

  it('for emails the size of the bench mailbox (bodies and attachments up to 500 KB)', async () => {
    const odd = new Map(buildCorpus().map((email) => [email.name, email]));
    for (let index = 0; index < 10; index += 1) await assertSame(`bench email ${index}`, benchEmail(index, odd).raw);
  });

  it("at the splitter's limits and special lines", async () => {
    for (const [name, raw] of edgeCases()) {
      for (const [ending, variant] of lineEndingVariants(raw)) await assertSame(`${name} (${ending})`, variant);
    }
  });

  it(`for ${MUTATION_CASES} random mutations of the corpus (seed ${SEED})`, async () => {
    const corpus = [...buildCorpus(), ...buildRealWorldCorpus()].map((email) => email.raw);
    const random = generator(SEED);
    for (let index = 0; index < MUTATION_CASES; index += 1) {
      let raw = corpus[at(random, corpus.length)]!;
      const donor = corpus[at(random, corpus.length)]!;
      for (let n = 0; n < 1 + at(random, 3); n += 1) raw = MUTATIONS[at(random, MUTATIONS.length)]!(raw, random, donor);
      await assertSame(`mutation ${index} (seed ${SEED})`, raw);
    }
  });
});
