/**
 * Helper IMAP sessions the tests use to inspect and append. They connect from 127.0.0.2 when the
 * machine allows it, so they are not counted by `mail_max_userip_connections` against the
 * client under test, which connects from 127.0.0.1.
 */
import net from 'node:net';
import type { ImapTransport } from 'imapflow';
import { ImapFlow } from 'imapflow';
import { HOST } from './layout.ts';
import type { DovecotMessage, DovecotUser } from './options.ts';

/** Loopback address the helper IMAP sessions connect from (see the module comment). */
export const HELPER_ADDRESS = '127.0.0.2';

/** 127.0.0.2 when the loopback accepts it (Linux routes all of 127/8 to lo), else the default. */
export let helperAddressPromise: Promise<string | undefined> | undefined;

export function usableHelperAddress(): Promise<string | undefined> {
  helperAddressPromise ??= new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(undefined));
    server.listen(0, HELPER_ADDRESS, () => server.close(() => resolve(HELPER_ADDRESS)));
  });
  return helperAddressPromise;
}

export function transportFrom(localAddress: string): ImapTransport {
  return {
    connect(options, onConnect) {
      if (options.secure) throw new Error('The helper transport is cleartext only');
      return net.connect({ host: options.host, port: options.port, localAddress }, onConnect);
    },
  };
}

export async function withImapSession<T>(
  target: { port: number; user: DovecotUser; helperAddress: string | undefined },
  work: (client: ImapFlow) => Promise<T>,
): Promise<T> {
  const client = new ImapFlow({
    host: HOST,
    port: target.port,
    secure: false,
    doSTARTTLS: false,
    auth: { user: target.user.name, pass: target.user.password },
    logger: false,
    disableAutoIdle: true,
    ...(target.helperAddress ? { transport: transportFrom(target.helperAddress) } : {}),
  });
  // Failures reach the caller as rejections; a late socket error must not crash the test run.
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await work(client);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

export async function fetchFolder(client: ImapFlow, folder: string, withSource: boolean): Promise<DovecotMessage[]> {
  const mailbox = await client.mailboxOpen(folder, { readOnly: true });
  if (mailbox.exists === 0) return [];
  const fetched = await client.fetchAll('1:*', { uid: true, flags: true, size: true, source: withSource });
  return fetched
    .map((message) => ({
      uid: message.uid,
      // \Recent only says which session saw the message first, here the helper itself.
      flags: [...(message.flags ?? [])].filter((flag) => flag !== '\\Recent').sort(),
      size: message.size ?? 0,
      ...(withSource && message.source ? { source: message.source } : {}),
    }))
    .sort((a, b) => a.uid - b.uid);
}
