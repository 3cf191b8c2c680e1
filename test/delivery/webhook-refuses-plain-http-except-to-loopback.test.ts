/**
 * A webhook carries whole emails (and the signature's replay window): plain http:// is allowed
 * only to a loopback receiver, or when the destination says `allowInsecureHttp: true`.
 * Otherwise the config is refused, naming the field and the way out.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { destinationSchema } from '../../src/config/schema.ts';

const check = (options: Record<string, unknown>) => destinationSchema.safeParse({ type: 'webhook', ...options });

describe('plain http webhooks', () => {
  it('refuses http:// to another host, naming url and allowInsecureHttp', () => {
    for (const url of ['http://example.com/hook', 'http://10.0.0.5:8080/hook', 'http://127.0.0.1.nip.io/hook']) {
      const parsed = check({ url });
      assert.equal(parsed.success, false, url);
      const issue = parsed.error!.issues[0]!;
      assert.deepEqual(issue.path, ['url'], url);
      assert.match(issue.message, /https:\/\/.*allowInsecureHttp/, issue.message);
    }
  });

  it('allows http:// to loopback, https:// anywhere, and http:// anywhere with allowInsecureHttp: true', () => {
    for (const options of [
      { url: 'http://127.0.0.1:8080/hook' },
      { url: 'http://localhost/hook' },
      { url: 'http://[::1]:9000/hook' },
      { url: 'https://example.com/hook' },
      { url: 'http://example.com/hook', allowInsecureHttp: true },
    ]) {
      const parsed = check(options);
      assert.equal(parsed.success, true, `${JSON.stringify(options)}: ${JSON.stringify(parsed.error?.issues)}`);
    }
  });
});
