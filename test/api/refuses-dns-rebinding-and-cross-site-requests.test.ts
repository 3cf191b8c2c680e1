/**
 * A page on another site cannot use the API through the user's browser: with no api.token only
 * a loopback Host is answered (DNS rebinding), an Origin that is not the server's own is
 * refused, and every mutation must be a request a page cannot send without a preflight (JSON or
 * X-Postroom-Request), with or without a token. Over a real socket with raw writes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConnectionInput } from '../../src/config/schema.ts';
import { type Workspace, workspace } from '../support/postroom.ts';
import { type ApiHarness, AUTH, rawRequest, startApi } from './api-kit.ts';

/** Stored through the API; never polled in this test (no worker runs). */
const SHOP = {
  name: 'shop',
  hostType: 'imap',
  host: '127.0.0.1',
  port: 993,
  useSsl: true,
  username: 'u',
  password: 'pw-shop-1',
  destination: 'out',
} as ConnectionInput;

describe('requests another site could have sent', () => {
  let ws: Workspace;
  let open: ApiHarness;
  let guarded: ApiHarness;
  let port: number;
  let guardedPort: number;

  before(async () => {
    ws = await workspace();
    open = await startApi(ws, { extra: { api: { allowPrivateHosts: true } } });
    port = Number(new URL(await open.app.listen({ host: '127.0.0.1', port: 0 })).port);
    guarded = await startApi(ws);
    guardedPort = Number(new URL(await guarded.app.listen({ host: '127.0.0.1', port: 0 })).port);
    const created = await rawRequest(port, `POST /api/connections HTTP/1.1\nHost: 127.0.0.1:${port}\nContent-Type: application/json`, JSON.stringify(SHOP));
    assert.equal(created.status, 201, created.text);
  });
  after(async () => {
    await open?.close();
    await guarded?.close();
    await ws?.dispose();
  });

  it('answers only a loopback Host when there is no token (DNS rebinding)', async () => {
    for (const host of [
      'rebind.attacker.example',
      `rebind.attacker.example:${port}`,
      `0.0.0.0:${port}`,
      `127.0.0.1.nip.io:${port}`,
      `localhost.attacker.example:${port}`,
    ]) {
      for (const path of ['/api/connections', '/api/status', '/', '/metrics']) {
        const response = await rawRequest(port, `GET ${path} HTTP/1.1\nHost: ${host}`);
        assert.equal(response.status, 403, `${path} with Host ${host}: ${response.text}`);
        assert.equal(JSON.parse(response.text).error, 'REQUEST_REFUSED');
        assert.ok(!response.text.includes('shop'), 'nothing about the connections');
      }
    }
    const absolute = await rawRequest(port, `GET http://rebind.attacker.example/api/connections HTTP/1.1\nHost: 127.0.0.1:${port}`);
    assert.equal(absolute.status, 403, 'an absolute-form target names the host too');
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`, `127.8.9.10:${port}`, 'localhost']) {
      const response = await rawRequest(port, `GET /api/connections HTTP/1.1\nHost: ${host}`);
      assert.equal(response.status, 200, `Host ${host}`);
    }
  });

  it('answers any Host when the token is set (the token is the guard then)', async () => {
    const response = await rawRequest(guardedPort, `GET /api/connections HTTP/1.1\nHost: postroom.example.com\nAuthorization: ${AUTH.authorization}`);
    assert.equal(response.status, 200);
  });

  it('refuses a cross-site text/plain or form POST, with or without a token', async () => {
    const simple = [
      `POST /api/dead-letters/replay-all HTTP/1.1\nHost: 127.0.0.1:${port}\nContent-Type: text/plain`,
      `POST /api/dead-letters/replay-all HTTP/1.1\nHost: 127.0.0.1:${port}`,
      `POST /api/connections/shop/disable HTTP/1.1\nHost: 127.0.0.1:${port}\nContent-Type: application/x-www-form-urlencoded`,
      `DELETE /api/connections/shop HTTP/1.1\nHost: 127.0.0.1:${port}`,
      `POST /api/connections/shop/disable HTTP/1.1\nHost: 127.0.0.1:${port}\nContent-Type: text/plain; charset=application/json`,
    ];
    for (const head of simple) {
      const response = await rawRequest(port, head, head.includes('Content-Type') ? '{}' : '');
      assert.equal(response.status, 403, `${head.split('\n')[0]}: ${response.text}`);
      assert.match(JSON.parse(response.text).message, /X-Postroom-Request/, 'says what to send');
    }
    const withToken = await rawRequest(
      guardedPort,
      `POST /api/dead-letters/replay-all HTTP/1.1\nHost: 127.0.0.1:${guardedPort}\nAuthorization: ${AUTH.authorization}\nContent-Type: text/plain`,
      '{}',
    );
    assert.equal(withToken.status, 403, 'a token does not make a simple request acceptable');
    assert.equal((await open.opened.store.getManagedConnection('shop'))?.enabled, true, 'the connection was neither disabled nor deleted');
  });

  it("refuses an Origin that is not the server's own", async () => {
    for (const origin of ['http://attacker.example', `http://127.0.0.1:${port + 1}`, 'null', `http://localhost:${port}.attacker.example`]) {
      const response = await rawRequest(port, `POST /api/dead-letters/replay-all HTTP/1.1\nHost: 127.0.0.1:${port}\nOrigin: ${origin}\nX-Postroom-Request: 1`);
      assert.equal(response.status, 403, `Origin ${origin}`);
      assert.match(JSON.parse(response.text).message, /Origin/);
    }
    const foreignWithToken = await rawRequest(
      guardedPort,
      `GET /api/status HTTP/1.1\nHost: 127.0.0.1:${guardedPort}\nOrigin: https://attacker.example\nAuthorization: ${AUTH.authorization}`,
    );
    assert.equal(foreignWithToken.status, 403);
  });

  it("accepts the web UI's own requests: same Origin, JSON or the custom header", async () => {
    const bodiless = await rawRequest(
      port,
      `POST /api/dead-letters/replay-all HTTP/1.1\nHost: 127.0.0.1:${port}\nOrigin: http://127.0.0.1:${port}\nX-Postroom-Request: 1`,
    );
    assert.equal(bodiless.status, 200, bodiless.text);
    assert.deepEqual(JSON.parse(bodiless.text), { replayed: 0, delivered: 0, failed: 0, results: [] });
    const json = await rawRequest(
      port,
      `POST /api/connections/shop/disable HTTP/1.1\nHost: localhost:${port}\nOrigin: http://localhost:${port}\nContent-Type: application/json; charset=utf-8`,
      '{}',
    );
    assert.equal(json.status, 200, json.text);
    assert.equal(JSON.parse(json.text).enabled, false);
    const fetched = await fetch(`http://127.0.0.1:${guardedPort}/api/dead-letters/replay-all`, {
      method: 'POST',
      headers: { ...AUTH, 'x-postroom-request': '1' },
    });
    assert.equal(fetched.status, 200);
  });
});
