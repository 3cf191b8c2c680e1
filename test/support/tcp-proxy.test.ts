import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ImapFlow } from 'imapflow';
import type { Dovecot } from './dovecot.ts';
import { startDovecot } from './dovecot.ts';
import type { TcpProxy } from './tcp-proxy.ts';
import { byLine, startTcpProxy } from './tcp-proxy.ts';

const PASSWORD = 'secret-1';

function email(subject: string): string {
  return `From: sender@example.com\r\nSubject: ${subject}\r\n\r\nBody of ${subject}\r\n`;
}

function imapThrough(proxy: TcpProxy): ImapFlow {
  const client = new ImapFlow({
    host: proxy.host,
    port: proxy.port,
    secure: false,
    doSTARTTLS: false,
    auth: { user: 'alice', pass: PASSWORD },
    logger: false,
    disableAutoIdle: true,
  });
  // Cut connections surface as 'error' events; the tests look at 'close' and rejections instead.
  client.on('error', () => undefined);
  return client;
}

function closed(client: ImapFlow): Promise<void> {
  return new Promise((resolve) => client.once('close', () => resolve()));
}

/** Resolves 'timeout' if `promise` has not settled within `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Reads POP3 replies: single lines, or multi-line ones up to the lone '.'. */
class Pop3Reader {
  private buffered = '';
  private notify: (() => void) | undefined;
  ended = false;

  constructor(readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buffered += chunk;
      this.notify?.();
    });
    socket.on('close', () => {
      this.ended = true;
      this.notify?.();
    });
  }

  /** Everything received so far. */
  get received(): string {
    return this.buffered;
  }

  async reply(multiLine = false): Promise<string> {
    for (;;) {
      const end = this.replyEnd(multiLine);
      if (end !== -1) {
        const reply = this.buffered.slice(0, end);
        this.buffered = this.buffered.slice(end);
        return reply;
      }
      if (this.ended) throw new Error(`connection closed; received ${JSON.stringify(this.buffered)}`);
      await new Promise<void>((resolve) => {
        this.notify = resolve;
      });
    }
  }

  async command(line: string, multiLine = false): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.reply(multiLine);
  }

  private replyEnd(multiLine: boolean): number {
    const lineEnd = this.buffered.indexOf('\r\n');
    if (lineEnd === -1) return -1;
    if (!multiLine || !this.buffered.startsWith('+OK')) return lineEnd + 2;
    const dot = this.buffered.indexOf('\r\n.\r\n', lineEnd - 2);
    return dot === -1 ? -1 : dot + 5;
  }
}

async function pop3Login(port: number): Promise<Pop3Reader> {
  const reader = new Pop3Reader(net.connect({ host: '127.0.0.1', port }));
  assert.match(await reader.reply(), /^\+OK/);
  assert.match(await reader.command('USER alice'), /^\+OK/);
  assert.match(await reader.command(`PASS ${PASSWORD}`), /^\+OK/);
  return reader;
}

describe('TCP proxy in front of Dovecot', () => {
  let dovecot: Dovecot;
  let imapProxy: TcpProxy;
  let pop3Proxy: TcpProxy;

  before(async () => {
    dovecot = await startDovecot();
    await dovecot.addUser('alice', PASSWORD);
    await dovecot.deliverMany('alice', ['one', 'two', 'three'].map(email));
    imapProxy = await startTcpProxy({ host: dovecot.host, port: dovecot.imapPort });
    pop3Proxy = await startTcpProxy({ host: dovecot.host, port: dovecot.pop3Port });
  });

  after(async () => {
    await Promise.all([imapProxy?.close(), pop3Proxy?.close()]);
    await dovecot?.stop();
  });

  it('forwards an IMAP login and counts the bytes', async () => {
    const client = imapThrough(imapProxy);
    await client.connect();
    const mailbox = await client.mailboxOpen('INBOX', { readOnly: true });
    assert.equal(mailbox.exists, 3);
    assert.equal(imapProxy.connections(), 1);
    const connection = imapProxy.allConnections().at(-1);
    assert.ok(connection && connection.bytesFromServer > 0 && connection.bytesFromClient > 0);
    await client.logout();
  });

  it('cutAll ends the client connection', async () => {
    const client = imapThrough(imapProxy);
    await client.connect();
    const wasClosed = closed(client);
    imapProxy.cutAll();
    assert.notEqual(await within(wasClosed, 2_000), 'timeout');
    await assert.rejects(client.noop());
    assert.equal(imapProxy.connections(), 0);
  });

  it('blackhole makes a NOOP hang, and resume lets the next connection work', async () => {
    const client = imapThrough(imapProxy);
    await client.connect();
    imapProxy.blackhole();
    try {
      assert.equal(await within(client.noop(), 300), 'timeout');
      // A connection accepted during the blackhole never even sees the greeting.
      const late = imapThrough(imapProxy);
      assert.equal(await within(late.connect(), 300), 'timeout');
      late.close();
    } finally {
      imapProxy.resume();
      client.close();
    }
    const next = imapThrough(imapProxy);
    await next.connect();
    await next.noop();
    await next.logout();
  });

  it('stall holds the bytes back until resume, losing none', async () => {
    const client = imapThrough(imapProxy);
    await client.connect();
    imapProxy.stall();
    const noop = client.noop();
    try {
      assert.equal(await within(noop, 300), 'timeout');
    } finally {
      imapProxy.resume();
    }
    await noop;
    await client.logout();
  });

  it('can answer the 4th RETR itself with -ERR [IN-USE]', async () => {
    const retrCounts = new Map<number, number>();
    pop3Proxy.onClientData = byLine((line, connection) => {
      if (!/^RETR /i.test(line.toString('latin1'))) return line;
      const count = (retrCounts.get(connection.index) ?? 0) + 1;
      retrCounts.set(connection.index, count);
      if (count <= 3) return line;
      connection.inject('-ERR [IN-USE] Mailbox is locked by another session\r\n');
      return null;
    });
    try {
      const pop3 = await pop3Login(pop3Proxy.port);
      for (const number of [1, 2, 3]) {
        assert.match(await pop3.command(`RETR ${number}`, true), new RegExp(`^\\+OK[^]*Subject: ${['one', 'two', 'three'][number - 1]}`));
      }
      assert.equal(await pop3.command('RETR 1', true), '-ERR [IN-USE] Mailbox is locked by another session\r\n');
      // The session itself is still fine: the server never saw the 4th RETR.
      assert.match(await pop3.command('STAT'), /^\+OK 3 /);
      assert.match(await pop3.command('QUIT'), /^\+OK/);
    } finally {
      pop3Proxy.onClientData = undefined;
    }
    assert.deepEqual(pop3Proxy.hookErrors(), []);
  });

  it('cutAfterServerBytes forwards exactly that many bytes, then cuts', async () => {
    pop3Proxy.cutAfterServerBytes(10);
    try {
      const reader = new Pop3Reader(net.connect({ host: '127.0.0.1', port: pop3Proxy.port }));
      await assert.rejects(reader.reply(), /connection closed/);
      assert.equal(reader.received.length, 10);
      assert.ok(reader.received.startsWith('+OK '));
    } finally {
      pop3Proxy.cutAfterServerBytes(null);
    }
  });

  it('delivers everything the server sent before it closed', async () => {
    const big = `Subject: big\r\n\r\n${'x'.repeat(998)}\r\n`.repeat(2_000);
    await dovecot.addUser('bob', PASSWORD);
    await dovecot.deliver('bob', big);
    const socket = net.connect({ host: '127.0.0.1', port: pop3Proxy.port });
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    const ended = new Promise((resolve) => socket.once('close', resolve));
    // Pipelined: the server sends the whole message and closes right away.
    socket.write(`USER bob\r\nPASS ${PASSWORD}\r\nRETR 1\r\nQUIT\r\n`);
    await ended;
    const text = Buffer.concat(received).toString('latin1');
    assert.ok(text.includes(big), `received ${JSON.stringify(text.slice(0, 300))}`);
    assert.match(text, /\r\n\.\r\n\+OK Logging out\.?\r\n$/);
  });

  it('onServerData can rewrite server replies', async () => {
    pop3Proxy.onServerData = (chunk) => Buffer.from(chunk.toString('latin1').replace(/^\+OK 3 \d+/m, '+OK 99 1'), 'latin1');
    try {
      const pop3 = await pop3Login(pop3Proxy.port);
      assert.equal(await pop3.command('STAT'), '+OK 99 1\r\n');
      await pop3.command('QUIT');
    } finally {
      pop3Proxy.onServerData = undefined;
    }
  });
});
