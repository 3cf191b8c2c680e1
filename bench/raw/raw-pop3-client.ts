/**
 * The ceiling for POP3: plain sockets (node:net, node:tls), no library. USER/PASS, STAT, then RETR 1..n pipelined
 * (RFC 2449 PIPELINING: a window of commands in flight), each reply un-dot-stuffed as it streams
 * in and written to its own file. No DELE: the mailbox stays for the next run.
 *
 *   node --import tsx bench/raw/raw-pop3-client.ts '{"host":…,"port":…,"user":…,"password":…,"out":…,"ca":…}'
 *
 * Prints one JSON line: { messages, bytes, ms }.
 */
import { connectTo, type RawTarget } from './connect.ts';
import { FileSink } from './file-sink.ts';

/** RETR commands in flight: enough to keep the server busy across the round trip. */
const WINDOW = 32;
const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const LF_DOT = Buffer.from('\n.');

export async function fetchAllPop3(target: RawTarget): Promise<{ messages: number; bytes: number; ms: number }> {
  const started = performance.now();
  const socket = connectTo(target);
  const sink = new FileSink(target.out, socket);

  // Replies come back in command order; each waits for a single line or a multi-line body.
  const replies: Array<{ multiline: boolean; resolve: (line: string) => void; reject: (error: Error) => void }> = [];
  let pending: Buffer = Buffer.alloc(0);
  let inBody = false;
  let atLineStart = true;
  let body: Buffer[] = [];
  let bodyIndex = 0;

  let bodyEnded = (): void => {};
  const onBodyEnd = (): void => {
    sink.write(`${bodyIndex}.eml`, body);
    body = [];
    inBody = false;
    bodyEnded();
  };

  socket.on('data', (chunk: Buffer) => {
    const buffer = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    pending = Buffer.alloc(0);
    let p = 0;
    while (p < buffer.length) {
      if (inBody) {
        if (atLineStart && buffer[p] === DOT) {
          if (p + 2 >= buffer.length) {
            pending = Buffer.from(buffer.subarray(p));
            return;
          }
          if (buffer[p + 1] === CR && buffer[p + 2] === LF) {
            p += 3;
            onBodyEnd();
            continue;
          }
          p += 1; // a stuffed dot: drop it, keep the rest of the line
        }
        const next = buffer.indexOf(LF_DOT, p);
        if (next < 0) {
          body.push(buffer.subarray(p));
          atLineStart = buffer[buffer.length - 1] === LF;
          p = buffer.length;
        } else {
          body.push(buffer.subarray(p, next + 1));
          atLineStart = true;
          p = next + 1;
        }
        continue;
      }
      const end = buffer.indexOf(LF, p);
      if (end < 0) {
        pending = Buffer.from(buffer.subarray(p));
        return;
      }
      const line = buffer.toString('latin1', p, end + 1);
      p = end + 1;
      const reply = replies.shift();
      if (!reply) continue;
      if (!line.startsWith('+OK')) {
        reply.reject(new Error(line.trim()));
        continue;
      }
      if (reply.multiline) {
        inBody = true;
        atLineStart = true;
        bodyIndex += 1;
      }
      reply.resolve(line);
    }
  });

  const closed = new Promise<void>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('close', () => resolve());
  });
  const expect = (multiline: boolean): Promise<string> => new Promise((resolve, reject) => replies.push({ multiline, resolve, reject }));
  const command = (text: string, multiline = false): Promise<string> => {
    const reply = expect(multiline);
    socket.write(`${text}\r\n`);
    return reply;
  };

  await expect(false); // greeting
  await command(`USER ${target.user}`);
  await command(`PASS ${target.password}`);
  const count = Number((await command('STAT')).split(' ')[1]);

  // RETR n is answered in order; a new one is sent as each body ends, keeping WINDOW in flight.
  let sent = 0;
  await new Promise<void>((resolve, reject) => {
    const sendMore = (): void => {
      while (sent < count && sent - sink.messages < WINDOW) {
        sent += 1;
        command(`RETR ${sent}`, true).catch(reject);
      }
    };
    bodyEnded = () => (sink.messages === count ? resolve() : sendMore());
    if (count === 0) resolve();
    else sendMore();
  });
  await command('QUIT');
  socket.end();
  await closed;
  await sink.flushed();
  return { messages: sink.messages, bytes: sink.bytes, ms: performance.now() - started };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await fetchAllPop3(JSON.parse(process.argv[2]!) as RawTarget);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
