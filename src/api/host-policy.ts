/**
 * Where a connection made or tested through the API may go. Without this, the API could make
 * Postroom open TCP to any host:port (a port scanner of the internal network) or post to any URL.
 * By default loopback, link-local and private addresses are refused (`api.allowPrivateHosts: true`
 * allows them); `api.allowHosts` (globs) narrows the host names further. Names are resolved and
 * every address is checked, so a public-looking name that points inside is refused too.
 * Connections from postroom.yaml are the operator's own and are not checked.
 */
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import type { ConnectionConfig } from '../config/schema.ts';
import type { FieldIssue } from './validation.ts';

export interface HostPolicy {
  allowHosts?: string[] | undefined;
  allowPrivateHosts: boolean;
}

export type Resolve = (host: string) => Promise<string[]>;

const systemResolve: Resolve = async (host) => (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);

/** Address ranges a connection from the API may not reach unless api.allowPrivateHosts is on, with what they are. */
const BLOCKED: Array<[string, number, 'ipv4' | 'ipv6', string]> = [
  ['0.0.0.0', 8, 'ipv4', '"this network" (reaches this machine)'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'shared (carrier-grade NAT)'],
  ['169.254.0.0', 16, 'ipv4', 'link-local (cloud metadata lives here)'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['::', 128, 'ipv6', 'unspecified (reaches this machine)'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['fc00::', 7, 'ipv6', 'private (unique local)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
];

/** What kind of blocked address this is, or undefined when it is a public one. */
export function blockedKind(address: string): string | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  const ip = mapped ?? address;
  const family = net.isIPv4(ip) ? 'ipv4' : net.isIPv6(ip) ? 'ipv6' : undefined;
  if (!family) return undefined;
  for (const [network, prefix, type, kind] of BLOCKED) {
    if (type !== family) continue;
    const list = new net.BlockList();
    list.addSubnet(network, prefix, type);
    if (list.check(ip, type)) return kind;
  }
  return undefined;
}

function globMatches(glob: string, host: string): boolean {
  const pattern = glob.trim().toLowerCase().split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${pattern}$`).test(host);
}

/** Each host a connection talks to, with the field that names it. */
export function endpointHosts(connection: ConnectionConfig): Array<{ path: string; host: string }> {
  const hostOf = (url: string) => {
    try {
      return new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
    } catch {
      return undefined;
    }
  };
  const found: Array<{ path: string; host: string | undefined }> = [];
  if (connection.hostType === 'graph') {
    found.push({ path: 'authorityHost', host: hostOf(connection.authorityHost) }, { path: 'graphEndpoint', host: hostOf(connection.graphEndpoint) });
  } else {
    found.push({ path: 'host', host: connection.host.replace(/^\[(.*)\]$/, '$1') });
    if (connection.oauth2?.tokenUrl) found.push({ path: 'oauth2.tokenUrl', host: hostOf(connection.oauth2.tokenUrl) });
  }
  return found.filter((entry): entry is { path: string; host: string } => entry.host !== undefined).map(({ path, host }) => ({ path, host: host.toLowerCase().replace(/\.$/, '') }));
}

const ALLOW_PRIVATE_HINT = 'connections made through the API may not reach loopback, link-local or private addresses; to allow them, set api.allowPrivateHosts: true in postroom.yaml';

/**
 * The issues that keep a connection from the API from being stored or tested: a host outside
 * api.allowHosts, or one that is (or resolves to) a blocked address. A name that does not resolve
 * passes: the check reports it, and a poll cannot reach it either.
 */
export async function hostPolicyIssues(connection: ConnectionConfig, policy: HostPolicy, resolve: Resolve = systemResolve): Promise<FieldIssue[]> {
  const issues: FieldIssue[] = [];
  for (const { path, host } of endpointHosts(connection)) {
    if (policy.allowHosts?.length && !policy.allowHosts.some((glob) => globMatches(glob, host))) {
      issues.push({ path, message: `${host} is not in api.allowHosts (${policy.allowHosts.join(', ')}); add it there to allow it` });
      continue;
    }
    if (policy.allowPrivateHosts) continue;
    const addresses = net.isIP(host) ? [host] : await resolve(host).catch(() => [] as string[]);
    const blocked = addresses.map((address) => ({ address, kind: blockedKind(address) })).find((entry) => entry.kind);
    if (blocked) issues.push({ path, message: `${host}${blocked.address === host ? '' : ` resolves to ${blocked.address}, which`} is a ${blocked.kind} address: ${ALLOW_PRIVATE_HINT}` });
  }
  return issues;
}
