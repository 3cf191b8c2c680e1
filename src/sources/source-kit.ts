/**
 * What every protocol's source shares: narrowing the connection config once, at the door, and
 * running a connection check step by step (`postroom check`, the API's check).
 */
import type { ConnectionConfig } from '../config/schema.ts';
import type { CheckStep } from '../model/check-step.ts';
import { errorMessage } from '../model/errors.ts';

/** The connection as its own protocol's config; a connection of another protocol is a bug in the caller. */
export function narrowConnection<P extends ConnectionConfig['hostType']>(
  connection: ConnectionConfig,
  protocol: P,
): Extract<ConnectionConfig, { hostType: P }> {
  if (connection.hostType !== protocol) throw new Error(`connection "${connection.name}" is a ${connection.hostType} connection, not ${protocol}`);
  return connection as Extract<ConnectionConfig, { hostType: P }>;
}

/** Where a mail server is, for error messages and the network-error classifier. */
export function serverEndpoint(connection: { host: string; port: number }): { host: string; port: number } {
  return { host: connection.host, port: connection.port };
}

/**
 * Runs one check step and records it: the detail `work` resolves with, or the message of what it
 * threw. Resolves false when the step failed, so the caller can stop there.
 */
export async function checkStep(steps: CheckStep[], name: CheckStep['step'], work: () => Promise<string>): Promise<boolean> {
  try {
    steps.push({ step: name, ok: true, detail: await work() });
    return true;
  } catch (error) {
    steps.push({ step: name, ok: false, detail: errorMessage(error) });
    return false;
  }
}
