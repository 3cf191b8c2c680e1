/**
 * Which MIME parser can split Postroom's emails: mailparser (MailParser, a stream that hands out
 * attachments as streams) or postal-mime (parses a whole email held in memory). Each run goes
 * in its own child process so peak RSS belongs to that run alone.
 *
 *   node --import tsx bench/mime-parsers.ts            # prints the table
 *   node --import tsx bench/mime-parsers.ts --run mailparser large   # one run, prints JSON
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type AttachmentStream, MailParser, type MessageText } from 'mailparser';
import PostalMime from 'postal-mime';
import { splitEmail } from '../src/mime/split-email.ts';
import type { ContentStore } from '../src/model/content-store.ts';
import { createFsContentStore } from '../src/store/content/fs-content-store.ts';
import { buildCorpus, largeAttachmentEmail, makeEmail } from '../test/support/corpus.ts';

/** "~100 MB attachment" as the brief asks; large enough that buffering it would show plainly. */
const LARGE_ATTACHMENT_BYTES = 100 * 1024 * 1024;
const SMALL_EMAIL_COUNT = 2000;

/** splitEmail runs twice: with the real (fsynced) file store, and with a memory store to show the split alone. */
const PARSERS = ['mailparser', 'postal-mime', 'splitEmail+memory', 'splitEmail+fs'] as const;
const WORKLOADS = ['large', 'small'] as const;
type Parser = (typeof PARSERS)[number];
type Workload = (typeof WORKLOADS)[number];

interface RunResult {
  parser: Parser;
  workload: Workload;
  ms: number;
  peakRssMb: number;
  /** Peak RSS minus RSS after loading and warming up: what the workload itself cost. */
  growthMb: number;
  bytesOut: number;
}

// ---------------------------------------------------------------------------------------------
// One run per parser: read every email, consume every attachment, return the bytes seen.

type ParseOne = (raw: Readable, reopen: () => Readable) => Promise<number>;

async function withMailParser(raw: Readable): Promise<number> {
  const parser = new MailParser({ skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true, checksumAlgo: false });
  const fed = pipeline(raw, parser);
  let bytes = 0;
  for await (const data of parser as AsyncIterable<AttachmentStream | MessageText>) {
    if (data.type === 'text') {
      bytes += Buffer.byteLength(data.text ?? data.html ?? '');
      continue;
    }
    await pipeline(
      data.content,
      nullSink((length) => (bytes += length)),
    );
    data.release?.();
  }
  await fed;
  return bytes;
}

async function withPostalMime(raw: Readable): Promise<number> {
  const email = await PostalMime.parse(Readable.toWeb(raw) as ReadableStream<Uint8Array>, { attachmentEncoding: 'arraybuffer' });
  let bytes = Buffer.byteLength(email.text ?? email.html ?? '');
  for (const attachment of email.attachments) bytes += (attachment.content as ArrayBuffer).byteLength;
  return bytes;
}

function withSplitEmail(content: ContentStore): ParseOne {
  return async (raw, reopen) => {
    const result = await splitEmail(raw, { sendMessageBody: true, sendAttachments: true, reopen }, content);
    return result.parts.reduce((sum, part) => sum + part.size, 0);
  };
}

/** Hashes and counts like the file store, keeps nothing: the cost of splitting without the disk. */
function memoryStore(): ContentStore {
  let next = 0;
  return {
    async write(source) {
      const hash = createHash('sha256');
      let size = 0;
      await pipeline(
        source,
        nullSink((length, chunk) => {
          size += length;
          hash.update(chunk);
        }),
      );
      next += 1;
      return { ref: String(next), size, sha256: hash.digest('hex') };
    },
    makeDurable: async () => {},
    open: () => Readable.from([]),
    remove: async () => {},
  };
}

function nullSink(onChunk: (length: number, chunk: Buffer) => void): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      onChunk(chunk.length, chunk);
      callback();
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Workloads

async function runWorkload(workload: Workload, parse: ParseOne): Promise<number> {
  if (workload === 'large') {
    const open = (): Readable => largeAttachmentEmail(LARGE_ATTACHMENT_BYTES);
    return parse(open(), open);
  }
  const corpus = buildCorpus();
  let bytes = 0;
  for (let index = 0; index < SMALL_EMAIL_COUNT; index += 1) {
    const raw = corpus[index % corpus.length]?.raw ?? Buffer.alloc(0);
    bytes += await parse(Readable.from([raw]), () => Readable.from([raw]));
  }
  return bytes;
}

function parserFor(parser: Parser, dir: string): ParseOne {
  switch (parser) {
    case 'mailparser':
      return withMailParser;
    case 'postal-mime':
      return withPostalMime;
    case 'splitEmail+memory':
      return withSplitEmail(memoryStore());
    case 'splitEmail+fs':
      return withSplitEmail(createFsContentStore(dir));
  }
}

async function runOne(parser: Parser, workload: Workload): Promise<RunResult> {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-bench-'));
  try {
    const parse = parserFor(parser, dir);
    const warmUp = makeEmail({
      subject: 'warm-up',
      text: 'hi\n',
      attachments: [{ filename: 'a.bin', content: Buffer.alloc(10), contentType: 'application/octet-stream' }],
    });
    await parse(Readable.from([warmUp.raw]), () => Readable.from([warmUp.raw]));
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    const started = performance.now();
    const bytesOut = await runWorkload(workload, parse);
    const ms = performance.now() - started;
    clearInterval(sampler);
    peak = Math.max(peak, process.resourceUsage().maxRSS * 1024);
    return { parser, workload, ms, peakRssMb: peak / 2 ** 20, growthMb: (peak - baseline) / 2 ** 20, bytesOut };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Driver

async function spawnRun(parser: Parser, workload: Workload): Promise<RunResult> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--run', parser, workload], {
    maxBuffer: 1024 * 1024,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as RunResult;
}

function table(results: RunResult[]): string {
  const header = ['parser', 'workload', 'time (ms)', 'peak RSS (MB)', 'RSS growth (MB)'];
  const rows = results.map((result) => [
    result.parser,
    result.workload === 'large' ? `1 email, ${LARGE_ATTACHMENT_BYTES / 2 ** 20} MB attachment` : `${SMALL_EMAIL_COUNT} small emails`,
    result.ms.toFixed(0),
    result.peakRssMb.toFixed(0),
    result.growthMb.toFixed(0),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const [flag, parser, workload] = process.argv.slice(2);
  if (flag === '--run') {
    process.stdout.write(`${JSON.stringify(await runOne(parser as Parser, workload as Workload))}\n`);
    return;
  }
  const results: RunResult[] = [];
  for (const each of WORKLOADS) {
    for (const name of PARSERS) results.push(await spawnRun(name, each));
  }
  process.stdout.write(`${table(results)}\n`);
}

await main();
