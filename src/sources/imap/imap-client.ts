/** Builds an imapflow client from a connection's config. Credentials go only to imapflow. */
import net from 'node:net';
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import type { ImapConnectionConfig } from '../../config/schema.ts';
import { resolveCa } from '../probe.ts';

export function imapClientOptions(connection: ImapConnectionConfig): ImapFlowOptions {
  const auth = connection.oauth2?.accessToken
    ? { user: connection.username, accessToken: connection.oauth2.accessToken }
    : { user: connection.username, pass: connection.password ?? '' };
  return {
    host: connection.host,
    port: connection.port,
    secure: connection.useSsl,
    doSTARTTLS: connection.useSsl ? undefined : connection.startTls ? true : undefined,
    auth,
    tls: {
      rejectUnauthorized: connection.tls.rejectUnauthorized,
      ca: resolveCa(connection.tls.ca),
      servername: connection.tls.servername ?? (net.isIP(connection.host) ? undefined : connection.host),
    },
    // imapflow's own logger would print protocol traffic; Postroom logs what matters itself.
    logger: false,
    disableAutoIdle: true,
    connectionTimeout: connection.connectTimeout,
    greetingTimeout: connection.connectTimeout,
  } as ImapFlowOptions;
}

export function createImapClient(connection: ImapConnectionConfig): ImapFlow {
  return new ImapFlow(imapClientOptions(connection));
}
