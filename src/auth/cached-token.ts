/**
 * Caches a grant's token: one request at a time (callers waiting on a refresh share it), a new
 * token ahead of expiry, and a refusal for good remembered so a revoked credential is not asked
 * for again and again (the connection is in `needs_reauth` until the credentials change).
 */
import { type Clock, systemClock } from '../model/clock.ts';
import { PostroomError } from '../model/errors.ts';
import type { IssuedToken, TokenGrant, TokenProvider } from './token-provider.ts';

/**
 * Refresh this long before expiry at most: MSAL's own offset, so a token never expires between
 * being handed out and being presented, even on a slow login.
 */
export const REFRESH_AHEAD_MS = 5 * 60_000;

/** ...and at most this share of the token's lifetime, so a short-lived token is not fetched anew on every call. */
const REFRESH_AHEAD_SHARE = 0.5;

export class CachedTokenProvider implements TokenProvider {
  private token: (IssuedToken & { refreshAt: number }) | undefined;
  private inflight: Promise<string> | undefined;
  private refusal: { error: PostroomError; until: number } | undefined;

  constructor(
    private readonly grant: TokenGrant,
    private readonly clock: Clock = systemClock,
  ) {}

  async getToken(): Promise<string> {
    const now = this.clock.now();
    if (this.refusal) {
      if (now < this.refusal.until) throw this.refusal.error;
      this.refusal = undefined;
    }
    if (this.token && now < this.token.refreshAt) return this.token.accessToken;
    this.inflight ??= this.fetch().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  invalidate(): void {
    this.token = undefined;
  }

  private async fetch(): Promise<string> {
    const now = this.clock.now();
    try {
      const issued = await this.grant.request(now);
      const lifetime = Math.max(0, issued.expiresAt - now);
      const ahead = Math.min(REFRESH_AHEAD_MS, lifetime * REFRESH_AHEAD_SHARE);
      this.token = { ...issued, refreshAt: issued.expiresAt - ahead };
      return issued.accessToken;
    } catch (error) {
      if (error instanceof PostroomError && (error.code === 'AUTH_REVOKED' || error.code === 'AUTH_FAILED')) {
        this.refusal = { error, until: now + this.grant.refusalFinalForMs };
      }
      throw error;
    }
  }
}

/** A token given as is (oauth2.accessToken): nothing to refresh; a refusal surfaces as the server's login error. */
export class StaticTokenProvider implements TokenProvider {
  constructor(private readonly accessToken: string) {}
  async getToken(): Promise<string> {
    return this.accessToken;
  }
  invalidate(): void {}
}
