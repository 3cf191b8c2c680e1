/** The IMAP source, through imapflow. */
import type { ImapFlow } from 'imapflow';
import type { ConnectionConfig, ImapConnectionConfig } from '../../config/schema.ts';
import { errorMessage, PostroomError } from '../../model/errors.ts';
import { probeNetwork } from '../../net/probe.ts';
import type { CheckStep, Source, SourceContext, SourceSession, SourceWatcher, WatchContext } from '../source.ts';
import { checkStep, narrowConnection, serverEndpoint } from '../source-kit.ts';
import { createImapClient } from './imap-client.ts';
import { toImapError } from './imap-errors.ts';
import { IdleWatcher } from './imap-idle.ts';
import { ImapSession } from './imap-session.ts';
import { throttleNotices } from './imap-throttle-notices.ts';

/** Connections already warned about in this process, so the warning is said once, not every poll. */
const warnedPlain = new Set<string>();

/**
 * Said after connecting, from what the socket is: imapflow upgrades a plain connection through
 * STARTTLS whenever the server offers it, so the config alone cannot tell.
 */
function warnIfPlain(connection: ImapConnectionConfig, secure: boolean, context: SourceContext): void {
  if (secure || warnedPlain.has(connection.name)) return;
  warnedPlain.add(connection.name);
  context.log.warn(
    { connection: connection.name, host: connection.host, port: connection.port },
    'logged in WITHOUT TLS: the server offered no STARTTLS, so the password and emails travel unencrypted; set useSsl: true (port 993) or startTls: true to require TLS',
  );
}

/** The folders the server has, as a sentence to append to a folder error. */
async function folderList(client: ImapFlow): Promise<string> {
  const folders = await client
    .list()
    .then((list) => list.map((f) => f.path))
    .catch(() => [] as string[]);
  return folders.length ? ` Folders on the server: ${folders.slice(0, 20).join(', ')}` : '';
}

/** A plain connection: did the server offer STARTTLS (imapflow upgrades when it does)? */
function startTlsStep(secure: boolean): CheckStep {
  return secure
    ? { step: 'tls', ok: true, detail: 'upgraded with STARTTLS' }
    : {
        step: 'tls',
        ok: true,
        detail:
          'WARNING: the server offered no STARTTLS, so the password and emails travel unencrypted; use useSsl: true (port 993) or startTls: true to require TLS',
      };
}

/** What acknowledging will do on this server, when it is not the plain case. */
function acknowledgementNote(connection: ImapConnectionConfig, has: (name: string) => boolean): string {
  if (has('UIDPLUS')) return '';
  if (connection.deleteMessages && !connection.moveTo) {
    return '. Without UIDPLUS, deleteMessages flags delivered emails \\Seen and \\Deleted but does not expunge them (a plain EXPUNGE would also remove emails other clients flagged \\Deleted)';
  }
  if (connection.moveTo && !has('MOVE')) {
    return '. Without MOVE and UIDPLUS, moveTo copies delivered emails and flags the originals \\Seen and \\Deleted without expunging them';
  }
  return '';
}

export const imapSource: Source = {
  protocol: 'imap',

  async open(config: ConnectionConfig, context: SourceContext): Promise<SourceSession> {
    const connection = narrowConnection(config, 'imap');
    const notices = throttleNotices();
    const client = createImapClient(connection, notices);
    // imapflow emits 'error' for socket failures after connect; the pending command rejects too.
    client.on('error', () => {});
    try {
      await client.connect();
    } catch (error) {
      client.close();
      throw toImapError(error, serverEndpoint(connection), { stage: 'connect', throttle: notices.latest() });
    }
    warnIfPlain(connection, client.secureConnection, context);
    const session = new ImapSession(client, connection, notices, context.log);
    try {
      await session.select();
    } catch (error) {
      session.abort();
      throw error;
    }
    return session;
  },

  watch(config: ConnectionConfig, context: WatchContext): SourceWatcher | undefined {
    const connection = narrowConnection(config, 'imap');
    return connection.idle ? new IdleWatcher(connection, context) : undefined;
  },

  async check(config: ConnectionConfig, _context: SourceContext): Promise<CheckStep[]> {
    const connection = narrowConnection(config, 'imap');
    const endpoint = serverEndpoint(connection);
    const steps = await probeNetwork({ ...endpoint, useSsl: connection.useSsl, tls: connection.tls, timeoutMs: connection.connectTimeout });
    if (steps.some((step) => !step.ok)) return steps;
    const client = createImapClient(connection);
    client.on('error', () => {});
    let connectError: PostroomError | undefined;
    await client.connect().catch((error: unknown) => {
      client.close();
      connectError = toImapError(error, endpoint, { stage: 'connect' });
    });
    // A certificate refused during STARTTLS is a TLS failure, not a login one.
    if (connectError && (connectError.code === 'TLS_CERTIFICATE' || connectError.code === 'TLS_FAILED')) {
      steps.push({ step: 'tls', ok: false, detail: errorMessage(connectError) });
      return steps;
    }
    if (!connection.useSsl && !connectError) steps.push(startTlsStep(client.secureConnection));
    const loggedIn = await checkStep(steps, 'login', async () => {
      if (connectError) throw connectError;
      return `logged in as ${connection.username}${client.secureConnection ? ' over TLS' : ' WITHOUT TLS'}`;
    });
    if (!loggedIn) return steps;
    await checkStep(steps, 'folder', async () => {
      try {
        const status = await client.status(connection.folder, { messages: true, unseen: true, uidValidity: true });
        if (!status) throw Object.assign(new Error('STATUS returned nothing'), { serverResponseCode: 'NONEXISTENT' });
        return `"${connection.folder}" has ${status.messages ?? '?'} emails, ${status.unseen ?? '?'} unseen`;
      } catch (error) {
        throw new Error(`${errorMessage(toImapError(error, endpoint, { folder: connection.folder, stage: 'open' }))}${await folderList(client)}`);
      }
    });
    const moveTo = connection.moveTo;
    if (moveTo) {
      await checkStep(steps, 'folder', async () => {
        const status = await client.status(moveTo, { messages: true }).catch(() => undefined);
        if (!status) {
          throw new PostroomError(
            'FOLDER_NOT_FOUND',
            `moveTo "${moveTo}": every delivered email would stay in "${connection.folder}" and be tried again each poll`,
            {
              hint: `Create the folder "${moveTo}" in a mail client (or with the IMAP command CREATE), or set moveTo to one that exists.${await folderList(client)}`,
            },
          );
        }
        return `moveTo "${moveTo}" exists (${status.messages ?? '?'} emails)`;
      });
    }
    const has = (name: string): boolean => client.capabilities.has(name);
    steps.push({
      step: 'capabilities',
      ok: true,
      detail: `IDLE ${has('IDLE') ? 'yes' : 'no'}, UIDPLUS ${has('UIDPLUS') ? 'yes' : 'no'}, MOVE ${has('MOVE') ? 'yes' : 'no'}${acknowledgementNote(connection, has)}`,
    });
    await client.logout().catch(() => client.close());
    return steps;
  },
};
