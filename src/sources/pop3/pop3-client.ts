/**
 * A small POP3 client (RFC 1939, 2449 CAPA/PIPELINING, 2595 STLS) on Pop3Connection: one method
 * per command, each parsing its own reply. Written here rather than taken from npm because no
 * POP3 package streams RETR (they buffer the whole email, often as a decoded string), and the
 * maintained one (node-pop3) finds the terminator only when ".CRLF" ends a TCP chunk, does not
 * undo dot-stuffing, and has no STLS. See src/sources/pop3/README.md.
 */
import type { Readable } from 'node:stream';
import type tls from 'node:tls';
import { type OpenOptions, Pop3Connection } from './pop3-connection.ts';
import { Pop3ProtocolError, type Pop3Reply, Pop3ReplyError } from './pop3-reply.ts';

/** CAPA tag (upper case) → its arguments, e.g. SASL → [PLAIN, LOGIN]. */
export type Pop3Capabilities = Map<string, string[]>;

export interface MailboxStat {
  count: number;
  octets: number;
}

export type Pop3ClientOptions = OpenOptions;

function lines(body: Buffer): string[] {
  return body
    .toString('latin1')
    .split(/\r?\n/)
    .filter((line) => line.length > 0);
}

/** "1 000000016b046d76" / "1 48" lines as message number → value. */
function numbered(body: Buffer, verb: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of lines(body)) {
    const match = /^(\d+)\s+(\S+)/.exec(line);
    if (!match) throw new Pop3ProtocolError(`unexpected ${verb} line: ${line.slice(0, 200)}`);
    out.set(Number(match[1]), match[2]!);
  }
  return out;
}

export class Pop3Client {
  capabilities: Pop3Capabilities = new Map();

  private constructor(
    private readonly connection: Pop3Connection,
    readonly greeting: Pop3Reply,
  ) {}

  /** Connects (plain or implicit TLS) and reads the greeting. */
  static async connect(options: Pop3ClientOptions): Promise<Pop3Client> {
    const { connection, greeting } = await Pop3Connection.open(options);
    if (!greeting.ok) {
      connection.destroy();
      throw new Pop3ReplyError('greeting', greeting);
    }
    return new Pop3Client(connection, greeting);
  }

  get secure(): boolean {
    return this.connection.secure;
  }

  /** RFC 2449 CAPA. A server without CAPA answers -ERR: then it has no known capabilities. */
  async capa(): Promise<Pop3Capabilities> {
    try {
      const { body } = await this.connection.command('CAPA', 'CAPA', 'multi');
      this.capabilities = new Map(
        lines(body).map((line) => {
          const [tag = '', ...args] = line.trim().split(/\s+/);
          return [tag.toUpperCase(), args] as const;
        }),
      );
    } catch (error) {
      if (this.connection.closed) throw error;
      this.capabilities = new Map();
    }
    this.connection.setPipelining(this.capabilities.has('PIPELINING'));
    return this.capabilities;
  }

  has(capability: string): boolean {
    return this.capabilities.has(capability.toUpperCase());
  }

  /** RFC 2595 STLS; the capabilities are read again afterwards, as the RFC requires. */
  async stls(options: tls.ConnectionOptions): Promise<void> {
    await this.connection.command('STLS', 'STLS');
    await this.connection.upgradeToTls(options);
    await this.capa();
  }

  /** USER/PASS, or AUTH PLAIN when the server lists SASL PLAIN but not USER. */
  async login(user: string, password: string): Promise<void> {
    const sasl = this.capabilities.get('SASL') ?? [];
    if (this.capabilities.size > 0 && !this.has('USER') && sasl.includes('PLAIN')) {
      const token = Buffer.from(`\u0000${user}\u0000${password}`, 'utf8').toString('base64');
      await this.connection.command('AUTH PLAIN', `AUTH PLAIN ${token}`);
      return;
    }
    await this.connection.command('USER', `USER ${user}`);
    await this.connection.command('PASS', `PASS ${password}`);
  }

  /**
   * SASL XOAUTH2 (Microsoft 365, Gmail) with a bearer token. On failure the server first sends a
   * "+ <base64 JSON>" challenge; an empty line then brings the final -ERR.
   */
  async authXoauth2(user: string, accessToken: string): Promise<void> {
    const token = Buffer.from(`user=${user}\u0001auth=Bearer ${accessToken}\u0001\u0001`, 'utf8').toString('base64');
    const { reply } = await this.connection.command('AUTH XOAUTH2', `AUTH XOAUTH2 ${token}`);
    if (reply.continuation) await this.connection.command('AUTH XOAUTH2', '');
  }

  async stat(): Promise<MailboxStat> {
    const { reply } = await this.connection.command('STAT', 'STAT');
    const match = /^(\d+)\s+(\d+)/.exec(reply.text);
    if (!match) throw new Pop3ProtocolError(`unexpected STAT reply: ${reply.line.slice(0, 200)}`);
    return { count: Number(match[1]), octets: Number(match[2]) };
  }

  /** Message number → unique id (RFC 1939 UIDL). Rejects with -ERR on servers without UIDL. */
  async uidl(): Promise<Map<number, string>> {
    const { body } = await this.connection.command('UIDL', 'UIDL', 'multi');
    return numbered(body, 'UIDL');
  }

  /** Message number → size in octets. */
  async list(): Promise<Map<number, number>> {
    const { body } = await this.connection.command('LIST', 'LIST', 'multi');
    const sizes = new Map<number, number>();
    for (const [number, size] of numbered(body, 'LIST')) sizes.set(number, Number(size));
    return sizes;
  }

  /** The header section (and `bodyLines` lines of the body) of a message. */
  async top(message: number, bodyLines = 0): Promise<Buffer> {
    const { body } = await this.connection.command('TOP', `TOP ${message} ${bodyLines}`, 'multi');
    return body;
  }

  /** The whole message, streamed: resolves on "+OK", the Readable ends at the terminating dot. */
  retr(message: number): Promise<Readable> {
    return this.connection.stream('RETR', `RETR ${message}`);
  }

  /** Marks a message deleted; the server deletes it only at QUIT. */
  async dele(message: number): Promise<void> {
    await this.connection.command('DELE', `DELE ${message}`);
  }

  async noop(): Promise<void> {
    await this.connection.command('NOOP', 'NOOP');
  }

  /** Everything sent so far answered and every streamed body read to its end. */
  whenIdle(): Promise<void> {
    return this.connection.whenIdle();
  }

  /** QUIT: the server commits the deletes (UPDATE state) and says +OK, or -ERR if it could not. */
  async quit(): Promise<void> {
    try {
      await this.connection.command('QUIT', 'QUIT');
    } finally {
      this.connection.destroy();
    }
  }

  /** Drops the connection without QUIT: the server keeps every message, deletes undone. */
  destroy(): void {
    this.connection.destroy();
  }
}
