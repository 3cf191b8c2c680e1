/**
 * An OAuth2 access token source for one set of credentials. Every protocol client (IMAP, POP3,
 * SMTP, Graph) asks for a token right before it authenticates and calls invalidate() when the
 * server refused it, then asks once more:
 *
 *   let token = await tokens.getToken();
 *   try { await login(token) } catch (e) { if (!refused(e)) throw e; tokens.invalidate(); await login(await tokens.getToken()) }
 *
 * Tokens never leave this module except to the protocol client: they are not logged and never
 * appear in an error message.
 */

export interface TokenProvider {
  /**
   * A valid access token, cached and refreshed ahead of expiry. Rejects with a PostroomError:
   * AUTH_REVOKED / AUTH_FAILED when the token endpoint refuses the credentials (then every later
   * call rejects the same way without asking again, until the credentials change), or a
   * network / THROTTLED code worth retrying later.
   */
  getToken(): Promise<string>;
  /** The server refused the token (expired early, revoked): the next getToken() fetches a new one. */
  invalidate(): void;
}

/** What a grant returns: the token and when it stops being valid (epoch ms). */
export interface IssuedToken {
  accessToken: string;
  expiresAt: number;
}

/** One way of getting a token (client credentials, refresh token, a fixed token). */
export interface TokenGrant {
  /** Says which credentials these are, without any secret (for messages). */
  readonly describe: string;
  request(now: number): Promise<IssuedToken>;
  /**
   * How long a refusal for good stays final. `Infinity` when only new credentials can help
   * (a dead refresh token); finite when someone can fix it without changing the credentials
   * (an administrator granting consent to an app).
   */
  readonly refusalFinalForMs: number;
}
