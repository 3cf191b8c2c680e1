/**
 * From a connection's config to a logged-in POP3 client: connect (plain or implicit TLS), read
 * the capabilities, upgrade with STLS when `startTls` asks for it (never falling back to plain
 * text), log in (USER/PASS, or SASL XOAUTH2 with a token from the oauth2: block, refreshed once
 * when refused), and read the capabilities again (they may grow after login, RFC 2449).
 * Credentials go only to the socket.
 */
import net from 'node:net';
import type tls from 'node:tls';
import { tokenProviderFor } from '../../auth/provider-for.ts';
import { signInWithToken } from '../../auth/sign-in-with-token.ts';
import type { Pop3ConnectionConfig } from '../../config/schema.ts';
import { PostroomError } from '../../model/errors.ts';
import { resolveCa } from '../../net/probe.ts';
import { serverEndpoint } from '../source-kit.ts';
import { Pop3Client } from './pop3-client.ts';
import { toPop3Error } from './pop3-errors.ts';
import { Pop3ReplyError } from './pop3-reply.ts';

/** How long a command may wait for the server's next byte. Long enough for a slow server assembling a big RETR. */
const IDLE_TIMEOUT_MS = 5 * 60 * 1000;

export function pop3TlsOptions(connection: Pop3ConnectionConfig): tls.ConnectionOptions {
  const servername = connection.tls.servername ?? (net.isIP(connection.host) ? undefined : connection.host);
  const ca = resolveCa(connection.tls.ca);
  return {
    rejectUnauthorized: connection.tls.rejectUnauthorized,
    ...(ca ? { ca } : {}),
    ...(servername ? { servername } : {}),
  };
}

/** Connects and reads the greeting and capabilities; no login yet. */
export async function connectPop3(connection: Pop3ConnectionConfig): Promise<Pop3Client> {
  const endpoint = serverEndpoint(connection);
  let client: Pop3Client;
  try {
    client = await Pop3Client.connect({
      ...endpoint,
      tls: connection.useSsl ? pop3TlsOptions(connection) : undefined,
      connectTimeoutMs: connection.connectTimeout,
      idleTimeoutMs: IDLE_TIMEOUT_MS,
    });
  } catch (error) {
    throw toPop3Error(error, endpoint, 'connect');
  }
  try {
    await client.capa();
  } catch (error) {
    client.destroy();
    throw toPop3Error(error, endpoint, 'connect');
  }
  return client;
}

/** STLS when the config asks for it on a plain connection; refuses to go on without it. */
export async function upgradePop3(client: Pop3Client, connection: Pop3ConnectionConfig): Promise<void> {
  if (connection.useSsl || !connection.startTls) return;
  const endpoint = serverEndpoint(connection);
  if (client.capabilities.size > 0 && !client.has('STLS')) {
    client.destroy();
    throw new PostroomError('CAPABILITY_MISSING', `${endpoint.host}:${endpoint.port} does not offer STLS`, {
      hint: 'Use useSsl: true with the implicit-TLS port (usually 995); turn startTls off only on a network you trust.',
    });
  }
  try {
    await client.stls(pop3TlsOptions(connection));
  } catch (error) {
    client.destroy();
    throw toPop3Error(error, endpoint, 'tls');
  }
}

export async function loginPop3(client: Pop3Client, connection: Pop3ConnectionConfig): Promise<void> {
  const endpoint = serverEndpoint(connection);
  try {
    if (connection.oauth2) {
      // A refused token (expired early, revoked) is replaced by a fresh one, presented once more.
      await signInWithToken(
        tokenProviderFor(connection),
        (token) => client.authXoauth2(connection.username, token),
        (error) => error instanceof Pop3ReplyError,
      );
    } else {
      await client.login(connection.username, connection.password ?? '');
    }
    await client.capa();
  } catch (error) {
    client.destroy();
    throw toPop3Error(error, endpoint, 'login');
  }
}

export async function openPop3(connection: Pop3ConnectionConfig): Promise<Pop3Client> {
  const client = await connectPop3(connection);
  await upgradePop3(client, connection);
  await loginPop3(client, connection);
  return client;
}
