/** The POP3 source, on Postroom's own POP3 client (see pop3-client.ts for why). */
import type { ConnectionConfig } from '../../config/schema.ts';
import { errorMessage } from '../../model/errors.ts';
import { probeNetwork } from '../../net/probe.ts';
import type { CheckStep, Source, SourceContext, SourceSession } from '../source.ts';
import { checkStep, narrowConnection, serverEndpoint } from '../source-kit.ts';
import type { Pop3Client } from './pop3-client.ts';
import { toPop3Error } from './pop3-errors.ts';
import { connectPop3, loginPop3, openPop3, upgradePop3 } from './pop3-login.ts';
import { Pop3Session } from './pop3-session.ts';

function yesNo(client: Pop3Client, capability: string): string {
  return `${capability} ${client.has(capability) ? 'yes' : 'no'}`;
}

export const pop3Source: Source = {
  protocol: 'pop3',

  async open(config: ConnectionConfig, context: SourceContext): Promise<SourceSession> {
    const connection = narrowConnection(config, 'pop3');
    const client = await openPop3(connection);
    return new Pop3Session(client, connection, context.log);
  },

  async check(config: ConnectionConfig, _context: SourceContext): Promise<CheckStep[]> {
    const connection = narrowConnection(config, 'pop3');
    const endpoint = serverEndpoint(connection);
    const steps = await probeNetwork({ ...endpoint, useSsl: connection.useSsl, tls: connection.tls, timeoutMs: connection.connectTimeout });
    if (steps.some((s) => !s.ok)) return steps;

    let client: Pop3Client | undefined;
    try {
      const connected = await checkStep(steps, 'greeting', async () => {
        client = await connectPop3(connection);
        // Only protocol tokens, never the server's own words: a check must not echo whatever a
        // host answers (that would make it a banner-grabbing scanner).
        const names = [...client.capabilities.keys()].filter((name) => /^[A-Z0-9-]{1,32}$/i.test(name));
        const capabilities = names.length ? names.join(' ') : 'none (the server has no CAPA)';
        return `the server answered +OK; capabilities: ${capabilities}`;
      });
      if (!connected || !client) return steps;
      const pop3 = client;

      if (!connection.useSsl && connection.startTls) {
        const upgraded = await checkStep(steps, 'tls', async () => {
          await upgradePop3(pop3, connection);
          return (
            'STLS: connection upgraded to TLS' +
            (connection.tls.rejectUnauthorized ? ' (certificate verified)' : ' (certificate NOT verified: tls.rejectUnauthorized is off)')
          );
        });
        if (!upgraded) return steps;
      }

      const loggedIn = await checkStep(steps, 'login', async () => {
        await loginPop3(pop3, connection);
        return `logged in as ${connection.username}${pop3.secure ? ' over TLS' : ' WITHOUT TLS (set useSsl or startTls)'}`;
      });
      if (!loggedIn) return steps;

      await checkStep(steps, 'mailbox', async () => {
        const stat = await pop3.stat().catch((error: unknown) => {
          throw toPop3Error(error, endpoint, 'list');
        });
        return `${stat.count} emails, ${stat.octets} bytes (POP3 always deletes emails once they are safely in the outbox)`;
      });

      steps.push(await uidlStep(pop3, endpoint));
      await pop3.quit().catch(() => pop3.destroy());
      return steps;
    } finally {
      client?.destroy();
    }
  },
};

/** UIDL is what keys emails: say whether it works, and what happens without it. */
async function uidlStep(client: Pop3Client, endpoint: { host: string; port: number }): Promise<CheckStep> {
  const others = [yesNo(client, 'TOP'), yesNo(client, 'PIPELINING')].join(', ');
  try {
    const uidls = await client.uidl();
    return { step: 'capabilities', ok: true, detail: `UIDL yes (${uidls.size} listed), ${others}` };
  } catch (error) {
    if (client.has('TOP')) {
      return {
        step: 'capabilities',
        ok: true,
        detail: `UIDL no: emails are keyed by a hash of their headers and size, identical copies by position; ${others}`,
      };
    }
    const reason = errorMessage(toPop3Error(error, endpoint, 'list'));
    return { step: 'capabilities', ok: false, detail: `UIDL no and TOP no: emails have no stable identity (${reason})` };
  }
}
