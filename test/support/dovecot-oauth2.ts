/** A private Dovecot whose oauth2 passdb checks bearer tokens against a local fake OAuth2 server. */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ConnectionInput } from '../../src/config/schema.ts';
import { type Dovecot, startDovecot } from './dovecot.ts';
import { type FakeOAuth2, startFakeOAuth2 } from './fake-oauth2.ts';

/** Dovecot's oauth2 passdb asks the test's introspection endpoint (RFC 7662) about every token. */
function oauth2Config(confPath: string): string {
  return `auth_mechanisms = plain login xoauth2 oauthbearer
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = ${confPath}
}
`;
}

/** Starts both, with `user` able to sign in only through a token from `refreshToken`. */
export async function startDovecotWithOAuth2(user: string, refreshToken: string): Promise<{ dovecot: Dovecot; oauth: FakeOAuth2 }> {
  const oauth = await startFakeOAuth2();
  const dovecot = await startDovecot();
  const confPath = path.join(dovecot.dir, 'dovecot-oauth2.conf.ext');
  await writeFile(
    confPath,
    `introspection_mode = post\nintrospection_url = ${oauth.introspectionUrl}\nusername_attribute = username\nactive_attribute = active\nactive_value = true\n`,
    { mode: 0o644 },
  );
  await dovecot.reconfigure({ extraConfig: oauth2Config(confPath) });
  await dovecot.addUser(user, 'not-the-way-in');
  oauth.addRefreshToken(refreshToken, user);
  return { dovecot, oauth };
}

/** Connection fields that sign in with a refresh-token grant instead of a password. */
export function oauth2SignIn(oauth: FakeOAuth2, refreshToken: string): Partial<ConnectionInput> {
  return {
    password: undefined,
    oauth2: { tokenUrl: oauth.tokenUrl, clientId: oauth.clientId, clientSecret: oauth.clientSecret, refreshToken },
  } as Partial<ConnectionInput>;
}
