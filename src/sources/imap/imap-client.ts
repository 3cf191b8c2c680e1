/** Builds an imapflow client from a connection's config. Credentials go only to imapflow. */
import net from 'node:net';
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import { type TokenProvider, tokenProviderFor } from '../../auth/provider-for.ts';
import { signInWithToken } from '../../auth/sign-in-with-token.ts';
import type { ImapConnectionConfig } from '../../config/schema.ts';
import { resolveCa } from '../../net/probe.ts';
import type { ThrottleNotices } from './imap-throttle-notices.ts';

export function imapClientOptions(connection: ImapConnectionConfig): ImapFlowOptions {
  const auth = connection.oauth2
    ? { user: connection.username, accessToken: connection.oauth2.accessToken ?? '' }
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

/**
 * OAuth2 (XOAUTH2 / OAUTHBEARER): the token is fetched right before AUTHENTICATE, and when the
 * server refuses it (expired early, revoked) a fresh one is fetched and presented once more on
 * the same connection. Overrides imapflow's internal authenticate() step (imapflow 2.x), which
 * reads `options.auth.accessToken`; test/oauth2 runs this against Dovecot's oauth2 passdb.
 */
class OAuth2ImapFlow extends ImapFlow {
  constructor(
    options: ImapFlowOptions,
    private readonly tokens: TokenProvider,
  ) {
    super(options);
  }

  async authenticate(): Promise<boolean> {
    const auth = this.options.auth as { accessToken?: string };
    const base = ImapFlow.prototype as unknown as { authenticate(this: ImapFlow): Promise<boolean> };
    return signInWithToken(
      this.tokens,
      (token) => {
        auth.accessToken = token;
        return base.authenticate.call(this);
      },
      (error) => !!(error as { authenticationFailed?: boolean }).authenticationFailed,
    );
  }
}

export function createImapClient(connection: ImapConnectionConfig, notices?: ThrottleNotices): ImapFlow {
  const options = { ...imapClientOptions(connection), ...(notices ? { logger: notices.logger } : {}) } as ImapFlowOptions;
  return connection.oauth2 ? new OAuth2ImapFlow(options, tokenProviderFor(connection)) : new ImapFlow(options);
}
