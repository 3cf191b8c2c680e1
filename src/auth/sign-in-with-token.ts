/**
 * The one way every protocol signs in with OAuth2: present the provider's token; when the server
 * refuses it (expired early, revoked), invalidate it, fetch a fresh one and present that once.
 * A fixed token (oauth2.accessToken) cannot be refreshed, so its refusal stands.
 */
import type { TokenProvider } from './token-provider.ts';

export async function signInWithToken<T>(tokens: TokenProvider, signIn: (token: string) => Promise<T>, refused: (error: unknown) => boolean): Promise<T> {
  const first = await tokens.getToken();
  try {
    return await signIn(first);
  } catch (error) {
    if (!refused(error)) throw error;
    tokens.invalidate();
    const fresh = await tokens.getToken();
    if (fresh === first) throw error;
    return signIn(fresh);
  }
}
