/**
 * The network half of `postroom check`, shared by every mail protocol: resolve the name, open
 * TCP, and (for implicit TLS) complete a verified handshake, saying which step failed and why.
 */
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import tls from 'node:tls';
import type { CheckStep } from '../model/check-step.ts';
import { errorMessage } from '../model/errors.ts';
import { isPemText, readCaFile } from './ca-file.ts';
import { classifyNetworkError } from './network-errors.ts';

export interface ProbeTarget {
  host: string;
  port: number;
  useSsl: boolean;
  tls: { rejectUnauthorized: boolean; ca?: string | undefined; servername?: string | undefined };
  timeoutMs: number;
}

/**
 * tls.ca may be PEM text or a path to a PEM file. The config loader has already read the files
 * the config file names; a path that is left is read the same careful way (regular files only,
 * size-capped). The API takes PEM text only.
 */
export function resolveCa(ca: string | undefined): string | undefined {
  if (!ca) return undefined;
  return isPemText(ca) ? ca : readCaFile(ca);
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
        resolve(
          `${socket.getProtocol() ?? 'TLS'}, certificate for ${cert.subject?.CN ?? 'unknown'}${target.tls.rejectUnauthorized ? ' (verified)' : ' (NOT verified: tls.rejectUnauthorized is off)'}`,
        );
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
