/**
 * A listener on loopback that records every byte sent to it: it plays just enough POP3 (greeting,
 * +OK to USER, -ERR to the rest, so a login fails at once) or HTTP (a 400 to every request) that a client gets as far as sending its
 * credentials, so a test can assert which secrets reached it.
 */
import net from 'node:net';

export interface Catcher {
  port: number;
  url: string;
  /** Everything received so far, every connection joined. */
  received(): string;
  /** Forgets what was received (between tests). */
  clear(): void;
  close(): Promise<void>;
}

/** `banner`: sends it on connect and `reply` to every line (an arbitrary TCP service). */
export type CatcherKind = 'pop3' | 'http' | { banner: string; reply: string };

export async function startCatcher(kind: CatcherKind): Promise<Catcher> {
  let received = '';
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    if (kind === 'pop3') socket.write('+OK ready\r\n');
    else if (typeof kind === 'object') socket.write(kind.banner);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (kind === 'pop3') {
        for (const line of chunk.toString('latin1').split('\r\n').filter(Boolean)) socket.write(/^USER /i.test(line) ? '+OK\r\n' : '-ERR no\r\n');
      } else if (typeof kind === 'object') {
        socket.write(kind.reply);
      } else if (kind === 'http' && received.includes('\r\n\r\n')) {
        const body = '{"error":"invalid_client"}';
        socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    received: () => received,
    clear: () => {
      received = '';
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
