/**
 * The token is checked on the route the router matched, not on the raw URL: a percent-encoded,
 * absolute-form, doubled-slash, dotted or differently cased request target either reaches an
 * /api route (and then needs the token) or no route at all. Sent over a real socket with raw
 * writes, so nothing normalises the target first, and through inject().
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Workspace, workspace } from '../support/postroom.ts';
import { type ApiHarness, AUTH, rawRequest, startApi } from './api-kit.ts';

/** Spellings of /api routes that a check on the raw URL does not see as /api. */
const TARGETS = [
  '/%61pi/connections',
  '/ap%69/dead-letters',
  '/%61pi/status',
  '/%2561pi/status',
  '/API/connections',
  '/Api/status',
  '//api/connections',
  '/api//connections',
  '/api;x/connections',
  '/api/connections;x',
  '/x/../api/connections',
  '/./api/status',
  '/api/%2e%2e/api/status',
  'http://x/api/connections',
  'http://127.0.0.1/%61pi/dead-letters',
  '/%61pi/destinations?x=1',
];

describe('the token check, however the path is spelled', () => {
  let ws: Workspace;
  let api: ApiHarness;
  let port: number;

  before(async () => {
    ws = await workspace();
    api = await startApi(ws);
    port = Number(new URL(await api.app.listen({ host: '127.0.0.1', port: 0 })).port);
  });
  after(async () => {
    await api?.close();
    await ws?.dispose();
  });

  it('never answers 200 without the token over a real socket', async () => {
    for (const target of TARGETS) {
      const response = await rawRequest(port, `GET ${target} HTTP/1.1\nHost: 127.0.0.1:${port}`);
      assert.ok(response.status === 401 || response.status === 404 || response.status === 400, `${target} answered ${response.status}: ${response.text}`);
    }
    const encoded = await rawRequest(port, `GET /%61pi/connections HTTP/1.1\nHost: 127.0.0.1:${port}`);
    assert.equal(encoded.status, 401, 'an encoded /api path reaches the route, and the route wants the token');
    const absolute = await rawRequest(port, `GET http://x/api/connections HTTP/1.1\nHost: 127.0.0.1:${port}`);
    assert.equal(absolute.status, 401, 'so does an absolute-form target');
  });

  it('still answers 200 with the token, however the path is spelled', async () => {
    const response = await rawRequest(port, `GET /%61pi/connections HTTP/1.1\nHost: 127.0.0.1:${port}\nAuthorization: ${AUTH.authorization}`);
    assert.equal(response.status, 200);
    assert.deepEqual(JSON.parse(response.text), []);
  });

  it('refuses a mutation sent with an encoded path', async () => {
    const response = await rawRequest(port, `POST /%61pi/dead-letters/replay-all HTTP/1.1\nHost: 127.0.0.1:${port}\nContent-Type: application/json`, '{}');
    assert.ok(response.status === 401 || response.status === 403, `answered ${response.status}`);
  });

  it('never answers 200 without the token through inject()', async () => {
    for (const target of TARGETS) {
      for (const method of ['GET', 'HEAD'] as const) {
        const response = await api.app.inject({ method, url: target });
        assert.ok(
          response.statusCode === 401 || response.statusCode === 404 || response.statusCode === 400,
          `${method} ${target} answered ${response.statusCode}`,
        );
      }
    }
  });
});
