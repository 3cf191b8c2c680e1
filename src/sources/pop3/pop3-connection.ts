/**
 * The POP3 wire: one socket (plain, implicit TLS, or upgraded by STLS), a FIFO of commands, and
 * the reading of their replies. Replies arrive in command order (RFC 2449 PIPELINING), so the
 * head of the queue owns the next status line and, after "+OK", the multi-line body behind it.
 *
 * A multi-line body is either collected (CAPA, UIDL, LIST, TOP: small) or streamed into a
 * Readable (RETR) with back-pressure: while its reader lags, the socket is paused, so memory
 * holds at most about one chunk plus the stream's buffer, whatever the email's size. A streamed
 * body whose reader gives up is read to its end and dropped, so the replies after it stay in step.
 *
 * Without PIPELINING a command is written only once the reply before it is complete.
 */
import net from 'node:net';
import { Readable } from 'node:stream';
import tls from 'node:tls';
import { PostroomError } from '../../model/errors.ts';
import { MultilineDecoder } from './multiline-decoder.ts';
import { Pop3ProtocolError, type Pop3Reply, Pop3ReplyError, parseReply } from './pop3-reply.ts';

/** RFC 1939 caps a status line at 512 octets; be generous with servers that chatter, not endless. */
const MAX_STATUS_LINE_BYTES = 8 * 1024;
/** Buffer of a streamed body before the socket is paused: a few socket chunks. */
const STREAM_HIGH_WATER_BYTES = 256 * 1024;
/** In a command's arguments, these would end the line early and start another command (or cut it). */
const LINE_BREAK_OR_NUL = /[\r\n\0]/;

export type Expect = 'single' | 'multi' | 'stream';

export interface Endpoint {
  host: string;
  port: number;
}

export interface OpenOptions extends Endpoint {
  /** Implicit TLS from the first byte; undefined for plain TCP. */
  tls?: tls.ConnectionOptions | undefined;
  /** Time allowed for connect, TLS handshake and greeting. */
  connectTimeoutMs: number;
  /** Time a command may wait for the server's next byte once connected. */
  idleTimeoutMs: number;
}

export interface CollectedReply {
  reply: Pop3Reply;
  /** The decoded multi-line body (empty for single-line replies). */
  body: Buffer;
}

interface Command {
  verb: string;
  /** The full line (may hold a secret: written to the socket, never kept in an error). */
  line: string | undefined;
  expect: Expect;
  sent: boolean;
  resolve(value: CollectedReply | Readable): void;
  reject(error: Error): void;
}

interface BodyInProgress {
  command: Command;
  decoder: MultilineDecoder;
  reply: Pop3Reply;
  /** Collected chunks ('multi'). */
  chunks: Buffer[];
  /** The reader's stream ('stream'); undefined once the reader gave up (the rest is dropped). */
  stream: Readable | undefined;
}

function codedError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

export class Pop3Connection {
  private socket: net.Socket;
  private readonly queue: Command[] = [];
  private body: BodyInProgress | undefined;
  private lineParts: Buffer[] = [];
  private lineBytes = 0;
  private pausedForReader = false;
  private failure: Error | undefined;
  private pipelining = false;
  /** The idle timer's length: the connect timeout until the greeting, then the idle timeout. */
  private timeoutMs: number;
  private readonly idleWaiters: Array<() => void> = [];
  private readonly endpoint: Endpoint;
  private readonly onData = (chunk: Buffer): void => this.receive(chunk);
  private readonly onError = (error: Error): void => this.fail(error);
  private readonly onClose = (): void =>
    this.fail(codedError(`the server at ${this.endpoint.host}:${this.endpoint.port} closed the connection`, 'EConnectionClosed'));
  private readonly onTimeout = (): void => {
    this.fail(codedError(`no answer from ${this.endpoint.host}:${this.endpoint.port} within ${Math.round(this.timeoutMs / 1000)} s`, 'ETIMEDOUT'));
  };

  private constructor(socket: net.Socket, endpoint: Endpoint, timeoutMs: number) {
    this.socket = socket;
    this.endpoint = endpoint;
    this.timeoutMs = timeoutMs;
    this.attach(socket);
  }

  /** Connects and reads the greeting. Rejects with the socket/TLS error or a -ERR greeting. */
  static async open(options: OpenOptions): Promise<{ connection: Pop3Connection; greeting: Pop3Reply }> {
    const endpoint = { host: options.host, port: options.port };
    const socket = options.tls
      ? tls.connect({ ...options.tls, host: options.host, port: options.port })
      : net.connect({ host: options.host, port: options.port });
    socket.setNoDelay(true);
    const connection = new Pop3Connection(socket, endpoint, options.connectTimeoutMs);
    // The greeting is the reply to a command nobody sent.
    const greeting = connection.enqueue('greeting', undefined, 'single', true) as Promise<CollectedReply>;
    connection.updateTimer();
    try {
      const { reply } = await greeting;
      connection.timeoutMs = options.idleTimeoutMs;
      connection.updateTimer();
      return { connection, greeting: reply };
    } catch (error) {
      connection.destroy();
      throw error;
    }
  }

  get secure(): boolean {
    return this.socket instanceof tls.TLSSocket && this.socket.encrypted;
  }

  get closed(): boolean {
    return this.failure !== undefined;
  }

  /** With PIPELINING (RFC 2449) commands are written without waiting for earlier replies. */
  setPipelining(on: boolean): void {
    this.pipelining = on;
  }

  /** Sends a command; resolves with its reply (and body) or rejects with a Pop3ReplyError on -ERR. */
  command(verb: string, line: string, expect: 'single' | 'multi' = 'single'): Promise<CollectedReply> {
    return this.enqueue(verb, line, expect, false) as Promise<CollectedReply>;
  }

  /** Sends a command whose multi-line body is streamed (RETR). Resolves once "+OK" arrived. */
  stream(verb: string, line: string): Promise<Readable> {
    return this.enqueue(verb, line, 'stream', false) as Promise<Readable>;
  }

  /** Upgrades the socket with TLS after the server said "+OK" to STLS. Nothing may be in flight. */
  async upgradeToTls(options: tls.ConnectionOptions): Promise<void> {
    if (this.queue.length || this.body) throw new Pop3ProtocolError('STLS while commands are in flight');
    this.checkOpen();
    const plain = this.socket;
    this.detach(plain);
    // `host` is what the certificate is checked against when there is no servername (an IP
    // address may not be one): without it Node checks against "localhost".
    const secure = tls.connect({ host: this.endpoint.host, ...options, socket: plain });
    this.socket = secure;
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(codedError(`TLS handshake after STLS took longer than ${Math.round(this.timeoutMs / 1000)} s`, 'ETIMEDOUT')),
          this.timeoutMs,
        );
        secure.once('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
        secure.once('secureConnect', () => {
          clearTimeout(timer);
          secure.removeAllListeners('error');
          resolve();
        });
      });
    } catch (error) {
      this.fail(error as Error);
      plain.destroy();
      throw error;
    }
    this.attach(secure);
    this.updateTimer();
  }

  /** Ends the connection without a word to the server (no QUIT: nothing is committed). */
  destroy(): void {
    this.fail(codedError('the connection was closed by Postroom', 'ECONNABORTED'));
  }

  /**
   * Resolves once every command sent so far is answered and every streamed body has been read
   * to its terminator (dropped if its reader gave up). Resolves too when the connection failed.
   */
  whenIdle(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private idle(): boolean {
    return this.failure !== undefined || (this.queue.length === 0 && this.body === undefined);
  }

  private wakeIdleWaiters(): void {
    if (!this.idle()) return;
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private enqueue(verb: string, line: string | undefined, expect: Expect, sent: boolean): Promise<CollectedReply | Readable> {
    return new Promise((resolve, reject) => {
      if (this.failure) {
        reject(this.failure);
        return;
      }
      // Defence in depth behind the config's own check: a CR/LF in a username or password must
      // never put a second command (DELE, QUIT) on the wire. The line itself may hold a secret.
      if (line !== undefined && LINE_BREAK_OR_NUL.test(line)) {
        reject(
          new PostroomError('CONFIG_INVALID', `refusing to send the POP3 ${verb} command: a value in it contains a line break (CR, LF) or NUL`, {
            hint: 'remove the line break from the username or password in the connection settings',
          }),
        );
        return;
      }
      this.queue.push({ verb, line, expect, sent, resolve, reject });
      this.sendReady();
      this.updateTimer();
    });
  }

  /** Writes every queued command that may go now. */
  private sendReady(): void {
    for (let index = 0; index < this.queue.length; index++) {
      const command = this.queue[index]!;
      if (command.sent) continue;
      // Without pipelining, only the head of the queue may be on the wire.
      if (!this.pipelining && index > 0) return;
      if (!this.pipelining && this.body) return;
      command.sent = true;
      this.socket.write(`${command.line}\r\n`);
    }
  }

  private receive(chunk: Buffer): void {
    let rest = chunk;
    while (rest.length && !this.failure) {
      if (this.body) {
        rest = this.receiveBody(this.body, rest);
        continue;
      }
      const lf = rest.indexOf(0x0a);
      const piece = lf === -1 ? rest : rest.subarray(0, lf + 1);
      this.lineParts.push(piece);
      this.lineBytes += piece.length;
      if (this.lineBytes > MAX_STATUS_LINE_BYTES) {
        this.fail(new Pop3ProtocolError(`a status line from the server is longer than ${MAX_STATUS_LINE_BYTES} bytes`));
        return;
      }
      if (lf === -1) return;
      rest = rest.subarray(lf + 1);
      const line = Buffer.concat(this.lineParts, this.lineBytes);
      this.lineParts = [];
      this.lineBytes = 0;
      this.receiveStatus(line);
    }
  }

  private receiveStatus(line: Buffer): void {
    const command = this.queue[0];
    if (!command?.sent) {
      this.fail(new Pop3ProtocolError(`unsolicited line from the server: ${line.toString('latin1').trim().slice(0, 200)}`));
      return;
    }
    const reply = parseReply(line);
    if (!reply) {
      this.fail(new Pop3ProtocolError(`unexpected reply to ${command.verb}: ${line.toString('latin1').trim().slice(0, 200)}`));
      return;
    }
    if (reply.ok && !reply.continuation && command.expect !== 'single') {
      const body: BodyInProgress = { command, decoder: new MultilineDecoder(), reply, chunks: [], stream: undefined };
      if (command.expect === 'stream') {
        body.stream = new Readable({
          highWaterMark: STREAM_HIGH_WATER_BYTES,
          // Only the body being received holds the socket; an earlier body's reader draining
          // its buffer must not release a pause the current one asked for.
          read: () => {
            if (this.body === body) this.resumeForReader();
          },
          destroy: (error, callback) => {
            // The reader gave up: keep reading to the terminator and drop the rest.
            if (this.body === body) {
              body.stream = undefined;
              this.resumeForReader();
            }
            callback(error);
          },
        });
        // A pipelined body can fail before its reader starts: that must not crash the process.
        // Readers see the failure through their own listener or `errored`.
        body.stream.on('error', () => {});
        command.resolve(body.stream);
      }
      this.body = body;
      return;
    }
    this.queue.shift();
    if (reply.ok) command.resolve({ reply, body: Buffer.alloc(0) });
    else command.reject(new Pop3ReplyError(command.verb, reply));
    this.afterReply();
  }

  /** Feeds body bytes; returns what follows the body's terminator (empty while it goes on). */
  private receiveBody(body: BodyInProgress, chunk: Buffer): Buffer {
    const decoded = body.decoder.feed(chunk);
    for (const data of decoded.data) {
      if (body.command.expect === 'multi') body.chunks.push(data);
      else if (body.stream && !body.stream.push(data)) this.pauseForReader();
    }
    if (!decoded.done) return decoded.rest;
    this.body = undefined;
    this.queue.shift();
    if (body.command.expect === 'multi') body.command.resolve({ reply: body.reply, body: Buffer.concat(body.chunks) });
    else body.stream?.push(null);
    this.resumeForReader();
    this.afterReply();
    return decoded.rest;
  }

  private afterReply(): void {
    this.sendReady();
    this.updateTimer();
    this.wakeIdleWaiters();
  }

  private pauseForReader(): void {
    if (this.pausedForReader) return;
    this.pausedForReader = true;
    this.socket.pause();
    this.updateTimer();
  }

  private resumeForReader(): void {
    if (!this.pausedForReader || this.failure) return;
    this.pausedForReader = false;
    this.socket.resume();
    this.updateTimer();
  }

  /** The timer runs only while we wait for the server, not while our own reader lags. */
  private updateTimer(): void {
    if (this.failure) return;
    const waiting = this.queue.length > 0 && !this.pausedForReader;
    this.socket.setTimeout(waiting ? this.timeoutMs : 0);
  }

  private checkOpen(): void {
    if (this.failure) throw this.failure;
  }

  private attach(socket: net.Socket): void {
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    socket.on('timeout', this.onTimeout);
  }

  private detach(socket: net.Socket): void {
    socket.off('data', this.onData);
    socket.off('error', this.onError);
    socket.off('close', this.onClose);
    socket.off('timeout', this.onTimeout);
    socket.setTimeout(0);
  }

  /** Ends everything with `error`: the socket, the streamed body, every waiting command. */
  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.detach(this.socket);
    // A late socket error after we gave up must not become an unhandled 'error' event.
    this.socket.on('error', () => {});
    this.socket.destroy();
    const body = this.body;
    this.body = undefined;
    body?.stream?.destroy(error);
    for (const command of this.queue.splice(0)) command.reject(error);
    this.wakeIdleWaiters();
  }
}
