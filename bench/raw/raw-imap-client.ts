/**
 * The ceiling for IMAP: the least a client can do to take every email. Plain sockets (node:net,
 * node:tls), no library: LOGIN, EXAMINE, one `UID FETCH 1:* BODY.PEEK[]`, literals parsed as they stream in,
 * each message written to its own file (no fsync, no parsing, no bookkeeping).
 *
 *   node --import tsx bench/raw/raw-imap-client.ts '{"host":…,"port":…,"user":…,"password":…,"out":…,"ca":…}'
 *
 * Prints one JSON line: { messages, bytes, ms }.
 */
import { connectTo, type RawTarget } from './connect.ts';
import { FileSink } from './file-sink.ts';

export type { RawTarget };

const LF = 0x0a;
const LITERAL = /\{(\d+)\}\r\n$/;
const FETCH_UID = /^\* \d+ FETCH \(.*UID (\d+)/;

function quoted(value: string): string {
  return `"${value.replace(/(["\\])/g, '\\$1')}"`;
}

export interface RawResult {
  messages: number;
  bytes: number;
  ms: number;
}

/** Every email in INBOX, each to its own file: the ceiling. */
export function fetchAllImap(target: RawTarget): Promise<RawResult> {
  return rawImapSession(target, ['EXAMINE INBOX', 'UID FETCH 1:* BODY.PEEK[]']);
}

/** Opens INBOX and asks for every size: Dovecot builds its index and cache (the server's warm-up). */
export function warmUpImap(target: RawTarget): Promise<RawResult> {
  return rawImapSession(target, ['EXAMINE INBOX', 'FETCH 1:* (UID RFC822.SIZE)']);
}

/** LOGIN, the commands one after another, LOGOUT; any literal in a FETCH reply goes to its own file. */
async function rawImapSession(target: RawTarget, commands: string[]): Promise<RawResult> {
  const started = performance.now();
  const socket = connectTo(target);
  const sink = new FileSink(target.out, socket);

  let pending: Buffer = Buffer.alloc(0);
  let literalLeft = 0;
  let literal: Buffer[] = [];
  let literalUid = '';
  let waiting: { tag: string; resolve: (line: string) => void; reject: (error: Error) => void } | undefined;
  let greeted: (() => void) | undefined;
  let failed: Error | undefined;

  const onLine = (line: string): void => {
    if (greeted) {
      const done = greeted;
      greeted = undefined;
      if (!line.startsWith('* OK')) failed = new Error(`greeting: ${line.trim()}`);
      done();
      return;
    }
    const literalMatch = LITERAL.exec(line);
    if (literalMatch) {
      literalLeft = Number(literalMatch[1]);
      literalUid = FETCH_UID.exec(line)?.[1] ?? String(sink.messages + 1);
      literal = [];
      if (literalLeft === 0) sink.write(`${literalUid}.eml`, [Buffer.alloc(0)]);
      return;
    }
    if (waiting && line.startsWith(`${waiting.tag} `)) {
      const { tag, resolve, reject } = waiting;
      waiting = undefined;
      if (line.startsWith(`${tag} OK`)) resolve(line);
      else reject(new Error(line.trim()));
    }
  };

  socket.on('data', (chunk: Buffer) => {
    let buffer = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    pending = Buffer.alloc(0);
    let offset = 0;
    while (offset < buffer.length) {
      if (literalLeft > 0) {
        const take = Math.min(literalLeft, buffer.length - offset);
        literal.push(buffer.subarray(offset, offset + take));
        literalLeft -= take;
        offset += take;
        if (literalLeft === 0) sink.write(`${literalUid}.eml`, literal);
        continue;
      }
      const end = buffer.indexOf(LF, offset);
      if (end < 0) {
        pending = Buffer.from(buffer.subarray(offset));
        break;
      }
      onLine(buffer.toString('latin1', offset, end + 1));
      offset = end + 1;
    }
    buffer = Buffer.alloc(0);
  });

  const closed = new Promise<void>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('close', () => resolve());
  });
  let counter = 0;
  const command = (text: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const tag = `a${++counter}`;
      waiting = { tag, resolve, reject };
      socket.write(`${tag} ${text}\r\n`);
    });

  await new Promise<void>((resolve, reject) => {
    greeted = resolve;
    socket.once('error', reject);
  });
  if (failed) throw failed;
  await command(`LOGIN ${quoted(target.user)} ${quoted(target.password)}`);
  for (const text of commands) await command(text);
  await command('LOGOUT');
  socket.end();
  await closed;
  await sink.flushed();
  return { messages: sink.messages, bytes: sink.bytes, ms: performance.now() - started };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await fetchAllImap(JSON.parse(process.argv[2]!) as RawTarget);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
