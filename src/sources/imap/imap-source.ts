/** The IMAP source, through imapflow. */
import type { ConnectionConfig } from '../../config/schema.ts';
import { errorMessage } from '../../model/errors.ts';
import { probeNetwork } from '../../net/probe.ts';
import type { CheckStep, Source, SourceContext, SourceSession, SourceWatcher, WatchContext } from '../source.ts';
import { createImapClient } from './imap-client.ts';
import { toImapError } from './imap-errors.ts';
import { IdleWatcher } from './imap-idle.ts';
import { checkStep, narrowConnection, serverEndpoint } from '../source-kit.ts';
import { ImapSession } from './imap-session.ts';
import { throttleNotices } from './imap-throttle-notices.ts';


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
    const loggedIn = await checkStep(steps, 'login', async () => {
      await client.connect().catch((error: unknown) => {
        client.close();
        throw toImapError(error, endpoint, { stage: 'connect' });
      });
      return `logged in as ${connection.username}${client.secureConnection ? ' over TLS' : ' WITHOUT TLS'}`;
    });
    if (!loggedIn) return steps;
    await checkStep(steps, 'folder', async () => {
      try {
        const status = await client.status(connection.folder, { messages: true, unseen: true, uidValidity: true });
        if (!status) throw Object.assign(new Error('STATUS returned nothing'), { serverResponseCode: 'NONEXISTENT' });
        return `"${connection.folder}" has ${status.messages ?? '?'} emails, ${status.unseen ?? '?'} unseen`;
      } catch (error) {
        const folders = await client.list().then((list) => list.map((f) => f.path)).catch(() => [] as string[]);
        const known = folders.length ? ` Folders on the server: ${folders.slice(0, 20).join(', ')}` : '';
        throw new Error(`${errorMessage(toImapError(error, endpoint, { folder: connection.folder, stage: 'open' }))}${known}`);
      }
    });
    const idle = client.capabilities.has('IDLE');
    steps.push({ step: 'capabilities', ok: true, detail: `IDLE ${idle ? 'yes' : 'no'}, UIDPLUS ${client.capabilities.has('UIDPLUS') ? 'yes' : 'no'}, MOVE ${client.capabilities.has('MOVE') ? 'yes' : 'no'}` });
    await client.logout().catch(() => client.close());
    return steps;
  },
};
