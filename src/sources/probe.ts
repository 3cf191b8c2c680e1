/**
 * The network half of `postroom check`, shared by every mail protocol: resolve the name, open
 * TCP, and (for implicit TLS) complete a verified handshake, saying which step failed and why.
 */
import { lookup } from 'node:dns/promises';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { PostroomError, errorMessage } from '../errors.ts';
import { classifyNetworkError } from './network-errors.ts';
import type { CheckStep } from './source.ts';

export interface ProbeTarget {
  host: string;
  port: number;
  useSsl: boolean;
  tls: { rejectUnauthorized: boolean; ca?: string | undefined; servername?: string | undefined };
  timeoutMs: number;
}

/** A CA bundle is a few KiB (the whole Mozilla root store is ~250 KiB); anything near this is not one. */
export const MAX_CA_FILE_BYTES = 1024 * 1024;

/**
 * tls.ca may be PEM text or a path to a PEM file (a path only ever comes from postroom.yaml: the
 * API takes PEM text). Only a regular file up to MAX_CA_FILE_BYTES is read: it is opened
 * non-blocking and checked with fstat, so a FIFO cannot stall the process and /dev/zero cannot
 * fill its memory.
 */
export function resolveCa(ca: string | undefined): string | undefined {
  if (!ca) return undefined;
  if (ca.includes('-----BEGIN')) return ca;
  const fd = openSync(ca, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new PostroomError('CONFIG_INVALID', `tls.ca ${ca} is not a regular file`, { hint: 'Name a PEM file, or give the PEM text itself.' });
    if (stat.size > MAX_CA_FILE_BYTES) throw new PostroomError('CONFIG_INVALID', `tls.ca ${ca} is larger than ${MAX_CA_FILE_BYTES / 1024 / 1024} MiB, too large for a CA bundle`, { hint: 'Name the PEM file of the CA certificate(s) only.' });
    const buffer = Buffer.alloc(stat.size);
    const read = readSync(fd, buffer, 0, stat.size, 0);
    return buffer.subarray(0, read).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function describe(error: unknown, target: ProbeTarget): string {
  return errorMessage(classifyNetworkError(error, target) ?? error);
}

export async function probeNetwork(target: ProbeTarget): Promise<CheckStep[]> {
  const steps: CheckStep[] = [];
  try {
    const { address } = await lookup(target.host);
    steps.push({ step: 'dns', ok: true, detail: `${target.host} resolves to ${address}` });
  } catch (error) {
    steps.push({ step: 'dns', ok: false, detail: describe(error, target) });
    return steps;
  }
  try {
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect({ host: target.host, port: target.port, timeout: target.timeoutMs });
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('timeout', () => {
        socket.destroy();
        reject(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }));
      });
      socket.once('error', reject);
    });
    steps.push({ step: 'tcp', ok: true, detail: `connected to ${target.host}:${target.port}` });
  } catch (error) {
    steps.push({ step: 'tcp', ok: false, detail: describe(error, target) });
    return steps;
  }
  if (!target.useSsl) return steps;
  try {
    const subject = await new Promise<string>((resolve, reject) => {
      const socket = tls.connect({
        host: target.host,
        port: target.port,
        servername: target.tls.servername ?? (net.isIP(target.host) ? undefined : target.host),
        rejectUnauthorized: target.tls.rejectUnauthorized,
        ca: resolveCa(target.tls.ca),
        timeout: target.timeoutMs,
      });
      socket.once('secureConnect', () => {
        const cert = socket.getPeerCertificate();
        socket.destroy();
        resolve(`${socket.getProtocol() ?? 'TLS'}, certificate for ${cert.subject?.CN ?? 'unknown'}${target.tls.rejectUnauthorized ? ' (verified)' : ' (NOT verified: tls.rejectUnauthorized is off)'}`);
      });
      socket.once('timeout', () => {
        socket.destroy();
        reject(Object.assign(new Error('TLS handshake timed out'), { code: 'ETIMEDOUT' }));
      });
      socket.once('error', reject);
    });
    steps.push({ step: 'tls', ok: true, detail: subject });
  } catch (error) {
    steps.push({ step: 'tls', ok: false, detail: describe(error, target) });
  }
  return steps;
}
