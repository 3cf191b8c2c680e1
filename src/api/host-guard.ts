/**
 * Where a connection created or tested through the API may point. Without a rule the API would be
 * a way to make Postroom connect anywhere on its network (a port scanner with a login prompt), so
 * by default a host that is, or resolves to, loopback, link-local or a private range is refused;
 * `api.allowPrivateHosts: true` lifts that (a mail server on the LAN), and `api.allowHosts` (globs
 * such as `*.example.com`) restricts API connections to the names listed. postroom.yaml is not
 * limited: whoever writes the file already runs the service.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { RequestInvalid } from './validation.ts';

const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['127.0.0.0', 8],
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['169.254.0.0', 16],
  ['100.64.0.0', 10],
  ['0.0.0.0', 8],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::1', 128],
  ['::', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv6');
}

export interface HostRules {
  allowPrivateHosts: boolean;
  allowHosts?: readonly string[] | undefined;
}

function isPrivateAddress(address: string): boolean {
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? PRIVATE.check(mapped[1]!, 'ipv4') : PRIVATE.check(address, family);
}

function globMatches(glob: string, host: string): boolean {
  const pattern = glob
    .toLowerCase()
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^.]*')
    .replace(/\?/g, '.');
  return new RegExp(`^${pattern}$`).test(host.toLowerCase());
}

/** The hosts a connection body sends to: the mail server, or Graph's endpoints, and an oauth2 token URL. */
function hostsOf(input: Record<string, unknown>): Array<{ field: string; host: string }> {
  const hosts: Array<{ field: string; host: string }> = [];
  const urlHost = (field: string, value: unknown): void => {
    if (typeof value !== 'string') return;
    try {
      hosts.push({ field, host: new URL(value).hostname.replace(/^\[|\]$/g, '') });
    } catch {
      // the schema reports a bad URL
    }
  };
  if (typeof input.host === 'string') hosts.push({ field: 'host', host: input.host });
  urlHost('graphEndpoint', input.graphEndpoint);
  urlHost('authorityHost', input.authorityHost);
  const oauth2 = input.oauth2 as Record<string, unknown> | undefined;
  if (oauth2 && typeof oauth2 === 'object') urlHost('oauth2.tokenUrl', oauth2.tokenUrl);
  return hosts;
}

/** Throws a 400 naming the field when a host is not allowed for an API connection. */
export async function checkHostsAllowed(input: Record<string, unknown>, rules: HostRules): Promise<void> {
  const issues: Array<{ path: string; message: string }> = [];
  for (const { field, host } of hostsOf(input)) {
    if (rules.allowHosts?.length && !rules.allowHosts.some((glob) => globMatches(glob, host))) {
      issues.push({ path: field, message: `${host} is not in api.allowHosts; add it there to use it through the API` });
      continue;
    }
    if (rules.allowPrivateHosts) continue;
    let addresses: string[];
    try {
      addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((entry) => entry.address);
    } catch {
      continue; // the check's DNS step says so
    }
    if (addresses.some(isPrivateAddress)) {
      issues.push({
        path: field,
        message: `${host} is a loopback, link-local or private address, which API connections may not use unless api.allowPrivateHosts is true`,
      });
    }
  }
  if (issues.length) throw new RequestInvalid(issues);
}
