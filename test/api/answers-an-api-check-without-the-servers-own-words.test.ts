/**
 * The API's check can be pointed at any allowed host and port, so it must not become a way to
 * read another service's banner: until the login succeeds, a step says what failed and why in
 * Postroom's words, never the server's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Workspace, workspace } from '../support/postroom.ts';
import { type ApiHarness, MUTATE, startApi } from './api-kit.ts';
import { type Catcher, startCatcher } from './catcher.ts';

const BANNER_WORD = 'OpenSSH_9.9-banner-c41d';
const GREETING_WORD = 'greeting-word-5b2e';
const REPLY_WORD = 'reply-word-9f07';

describe('an API check against a server that is not what it seems', () => {
  let ws: Workspace;
  let api: ApiHarness;
  let ssh: Catcher;
  let pop3: Catcher;
  const check = (port: number) =>
    api.app.inject({
      method: 'POST',
      url: '/api/connections/probe/check',
      headers: MUTATE,
      payload: { hostType: 'pop3', host: '127.0.0.1', port, useSsl: false, username: 'u', password: 'pw' },
    });

  before(async () => {
    ws = await workspace();
    ssh = await startCatcher({ banner: `SSH-2.0-${BANNER_WORD}\r\n`, reply: `Protocol mismatch ${REPLY_WORD}\r\n` });
    pop3 = await startCatcher({ banner: `+OK ${GREETING_WORD} ready\r\n`, reply: `-ERR ${REPLY_WORD}\r\n` });
    api = await startApi(ws);
  });
  after(async () => {
    await api?.close();
    await Promise.all([ssh?.close(), pop3?.close()]);
    await ws?.dispose();
  });

  it("does not echo a non-mail service's banner", async () => {
    const response = await check(ssh.port);
    assert.equal(response.statusCode, 200, response.body);
    assert.doesNotMatch(response.body, new RegExp(`${BANNER_WORD}|${REPLY_WORD}`));
    const failed = response.json().steps.find((s: { ok: boolean }) => !s.ok);
    assert.match(failed.detail, /^greeting failed: /, 'says which step failed');
  });

  it('does not echo a POP3 greeting or its error replies before the login', async () => {
    const response = await check(pop3.port);
    assert.equal(response.statusCode, 200, response.body);
    assert.doesNotMatch(response.body, new RegExp(`${GREETING_WORD}|${REPLY_WORD}`));
    const steps = response.json().steps as Array<{ step: string; ok: boolean; detail: string }>;
    assert.deepEqual(
      steps.map((s) => [s.step, s.ok]),
      [
        ['dns', true],
        ['tcp', true],
        ['greeting', true],
        ['login', false],
      ],
    );
    assert.match(steps[3]!.detail, /^login failed: The server refused the login/);
  });
});
