/**
 * A small loopback TCP proxy that sits between a client and a real server (Dovecot) to inject
 * faults for real: cut connections, go silent (half-open), stall, rewrite or answer commands.
 *
 * Hooks see raw chunks as TCP delivers them; wrap a hook in `byLine()` to see whole lines.
 */
import net from 'node:net';

export interface ProxyConnection {
  /** 0 for the first connection the proxy accepted, then 1, 2, ... */
  index: number;
  /** Bytes received from the server so far (before hooks). */
  bytesFromServer: number;
  /** Bytes received from the client so far (before hooks). */
  bytesFromClient: number;
  /** Sends bytes to the client as if the server had sent them (bypasses hooks and blackhole). */
  inject(toClient: Buffer | string): void;
  /** Sends bytes to the server as if the client had sent them (bypasses hooks and blackhole). */
  injectToServer(toServer: Buffer | string): void;
  /** Closes both sides now (FIN). */
  cut(): void;
  /** Resets both sides now (RST), like a crashed peer or a middlebox dropping state. */
  reset(): void;
  readonly closed: boolean;
}

export type ProxyHook = (chunk: Buffer, connection: ProxyConnection) => Buffer | null;

export interface TcpProxy {
  port: number;
  host: '127.0.0.1';
  /** Cut every open connection now (destroy both sides). */
  cutAll(): void;
  /**
   * Stop forwarding silently (keep sockets open, drop bytes both ways): a half-open connection.
   * Connections accepted meanwhile are blackholed too. resume() forwards again (what was dropped
   * stays lost).
   */
  blackhole(): void;
  /** Stop reading both ways (TCP back-pressure, nothing lost) until resume(): a stalled network. */
  stall(): void;
  /** Ends blackhole() and stall(). */
  resume(): void;
  /**
   * Cut each connection once it has received `bytes` bytes from the server, forwarding exactly
   * that many first. Applies to open and future connections; null turns it off.
   */
  cutAfterServerBytes(bytes: number | null): void;
  /** Rewrite or inject server→client bytes: return the bytes to forward (may be a replacement), or null to drop. */
  onServerData?: ProxyHook | undefined;
  /** Rewrite client→server bytes: return the bytes to forward, or null to drop (answer with connection.inject()). */
  onClientData?: ProxyHook | undefined;
  /** Called for each accepted connection, before any byte is forwarded. */
  onConnection?: ((connection: ProxyConnection) => void) | undefined;
  /** Open connections. */
  connections(): number;
  /** Every connection accepted so far, open or closed. */
  allConnections(): readonly ProxyConnection[];
  /** Errors thrown by hooks (the connection concerned is cut). */
  hookErrors(): readonly Error[];
  close(): Promise<void>;
}

type Mode = 'forward' | 'blackhole' | 'stall';

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<Connection>();
  const all: Connection[] = [];
  const errors: Error[] = [];
  let mode: Mode = 'forward';
  let serverByteLimit: number | null = null;

  const server = net.createServer((clientSocket) => {
    const connection = new Connection(all.length, clientSocket, target, {
      mode: () => mode,
      serverByteLimit: () => serverByteLimit,
      onServerData: () => proxy.onServerData,
      onClientData: () => proxy.onClientData,
      hookFailed: (error) => errors.push(error),
      closed: (closed) => open.delete(closed),
    });
    all.push(connection);
    open.add(connection);
    try {
      proxy.onConnection?.(connection);
    } catch (error) {
      errors.push(toError(error));
      connection.cut();
    }
    connection.start();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });

  const proxy: TcpProxy = {
    port: (server.address() as net.AddressInfo).port,
    host: '127.0.0.1',
    cutAll() {
      for (const connection of [...open]) connection.cut();
    },
    blackhole() {
      mode = 'blackhole';
      for (const connection of open) connection.applyMode();
    },
    stall() {
      mode = 'stall';
      for (const connection of open) connection.applyMode();
    },
    resume() {
      mode = 'forward';
      for (const connection of open) connection.applyMode();
    },
    cutAfterServerBytes(bytes) {
      serverByteLimit = bytes;
      if (bytes !== null) for (const connection of [...open]) connection.enforceServerByteLimit();
    },
    connections: () => open.size,
    allConnections: () => all,
    hookErrors: () => errors,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const connection of [...open]) connection.cut();
      await closed;
    },
  };
  return proxy;
}

/**
 * Turns a per-line hook into a per-chunk hook: partial lines are held back until their line
 * feed arrives, so `hook` sees each line whole (terminator included). Meant for line protocols
 * (POP3 commands, IMAP commands without literals).
 */
export function byLine(hook: ProxyHook): ProxyHook {
  const pending = new WeakMap<ProxyConnection, Buffer>();
  return (chunk, connection) => {
    let buffered = Buffer.concat([pending.get(connection) ?? Buffer.alloc(0), chunk]);
    const out: Buffer[] = [];
    for (let end = buffered.indexOf(0x0a); end !== -1; end = buffered.indexOf(0x0a)) {
      const forwarded = hook(buffered.subarray(0, end + 1), connection);
      if (forwarded) out.push(forwarded);
      buffered = buffered.subarray(end + 1);
    }
    pending.set(connection, buffered);
    return out.length > 0 ? Buffer.concat(out) : null;
  };
}

interface ConnectionContext {
  mode(): Mode;
  serverByteLimit(): number | null;
  onServerData(): ProxyHook | undefined;
  onClientData(): ProxyHook | undefined;
  hookFailed(error: Error): void;
  closed(connection: Connection): void;
}

class Connection implements ProxyConnection {
  bytesFromServer = 0;
  bytesFromClient = 0;
  closed = false;
  private readonly serverSocket: net.Socket;

  constructor(
    readonly index: number,
    private readonly clientSocket: net.Socket,
    target: { host: string; port: number },
    private readonly context: ConnectionContext,
  ) {
    // Writes before the upstream connect completes are queued by the socket.
    this.serverSocket = net.connect({ host: target.host, port: target.port });
  }

  start(): void {
    for (const socket of [this.clientSocket, this.serverSocket]) {
      socket.setNoDelay(true);
      // A reset or a refused upstream ends the pair; the error itself is expected in fault tests.
      socket.on('error', () => this.cut());
      // An orderly close is passed on after the bytes still queued for the other side.
      socket.on('end', () => this.other(socket).end());
      socket.on('close', (hadError: boolean) => {
        if (hadError) this.cut();
        else this.other(socket).end();
        if (this.clientSocket.destroyed && this.serverSocket.destroyed) this.close(() => undefined);
      });
    }
    this.clientSocket.on('data', (chunk: Buffer) => this.fromClient(chunk));
    this.serverSocket.on('data', (chunk: Buffer) => this.fromServer(chunk));
    this.applyMode();
  }

  inject(toClient: Buffer | string): void {
    if (!this.closed) this.clientSocket.write(toClient);
  }

  injectToServer(toServer: Buffer | string): void {
    if (!this.closed) this.serverSocket.write(toServer);
  }

  cut(): void {
    this.close((socket) => socket.destroy());
  }

  reset(): void {
    this.close((socket) => (socket.connecting ? socket.destroy() : socket.resetAndDestroy()));
  }

  applyMode(): void {
    if (this.closed) return;
    const stalled = this.context.mode() === 'stall';
    for (const socket of [this.clientSocket, this.serverSocket]) {
      if (stalled) socket.pause();
      else socket.resume();
    }
  }

  enforceServerByteLimit(): void {
    const limit = this.context.serverByteLimit();
    if (limit !== null && this.bytesFromServer >= limit) this.cut();
  }

  private fromClient(chunk: Buffer): void {
    this.bytesFromClient += chunk.length;
    if (this.context.mode() === 'blackhole') return;
    const forwarded = this.runHook(this.context.onClientData(), chunk);
    if (forwarded && !this.closed) this.serverSocket.write(forwarded);
  }

  private fromServer(chunk: Buffer): void {
    const limit = this.context.serverByteLimit();
    const allowed = limit === null ? chunk : chunk.subarray(0, Math.max(0, limit - this.bytesFromServer));
    this.bytesFromServer += chunk.length;
    if (this.context.mode() !== 'blackhole' && allowed.length > 0) {
      const forwarded = this.runHook(this.context.onServerData(), allowed);
      if (forwarded && !this.closed) this.clientSocket.write(forwarded);
    }
    if (limit !== null && this.bytesFromServer >= limit) {
      // Let the allowed bytes reach the client before closing.
      this.close((socket) => socket.end(() => socket.destroy()));
    }
  }

  private runHook(hook: ProxyHook | undefined, chunk: Buffer): Buffer | null {
    if (!hook) return chunk;
    try {
      return hook(chunk, this);
    } catch (error) {
      this.context.hookFailed(toError(error));
      this.cut();
      return null;
    }
  }

  private other(socket: net.Socket): net.Socket {
    return socket === this.clientSocket ? this.serverSocket : this.clientSocket;
  }

  private close(how: (socket: net.Socket) => void): void {
    if (this.closed) return;
    this.closed = true;
    how(this.clientSocket);
    how(this.serverSocket);
    this.context.closed(this);
  }
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
