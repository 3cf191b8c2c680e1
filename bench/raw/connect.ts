/**
 * The raw clients' socket: node:net, or node:tls over it when the server wants implicit TLS
 * (Postroom is benchmarked over TLS, as it runs in production, so the ceiling pays for TLS too).
 */
import net from 'node:net';
import tls from 'node:tls';

export interface RawTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Directory each message is written into. */
  out: string;
  /** PEM of the CA to trust: implicit TLS. Absent: plain TCP. */
  ca?: string;
}

export function connectTo(target: RawTarget): net.Socket {
  const socket = target.ca ? tls.connect({ host: target.host, port: target.port, ca: target.ca }) : net.connect({ host: target.host, port: target.port });
  socket.setNoDelay(true);
  return socket;
}
