/**
 * The audit trail in the service log: one info line per API mutation (who, method, route, the
 * connection or dead letter, the address, the status) and one warn line per refused request
 * (address, reason). Never the token, a wrong token, a password or a body.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { ConnectionInput } from '../../src/config/schema.ts';
import { REDACTED_PATHS } from '../../src/model/log.ts';
import { type Workspace, workspace } from '../support/postroom.ts';
import { type ApiHarness, AUTH, startApi, TOKEN } from './api-kit.ts';

const PASSWORD = 'pw-audit-never-logged-77';
const WRONG = 'wrong-token-never-logged-31';
const SHOP = {
  name: 'shop',
  hostType: 'imap',
  host: '127.0.0.1',
  port: 993,
  useSsl: true,
  username: 'u',
  password: PASSWORD,
  destination: 'out',
} as ConnectionInput;
const JSON_AUTH = { ...AUTH, 'content-type': 'application/json' };

interface Line {
  level: number;
  msg: string;
  [field: string]: unknown;
}

const INFO = 30;
const WARN = 40;

describe('the audit trail', () => {
  let ws: Workspace;
  let api: ApiHarness;
  let open: ApiHarness;
  const chunks: string[] = [];
  const lines = (): Line[] =>
    chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((text) => JSON.parse(text) as Line);
  const audit = (kind: string): Line[] => lines().filter((line) => line.audit === kind);

  before(async () => {
    ws = await workspace();
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk.toString());
        done();
      },
    });
    const log = pino({ level: 'info', redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, sink);
    api = await startApi(ws, { log });
    open = await startApi(ws, { log, extra: { api: { allowPrivateHosts: true } } });
  });
  after(async () => {
    await api?.close();
    await open?.close();
    await ws?.dispose();
  });

  it('logs who changed what, from where, and how it went', async () => {
    const from = '10.20.30.40';
    assert.equal((await api.app.inject({ method: 'POST', url: '/api/connections', headers: JSON_AUTH, payload: SHOP, remoteAddress: from })).statusCode, 201);
    assert.equal(
      (await api.app.inject({ method: 'POST', url: '/api/connections/shop/disable', headers: { ...AUTH, 'x-postroom-request': '1' }, remoteAddress: from }))
        .statusCode,
      200,
    );
    assert.equal(
      (await api.app.inject({ method: 'POST', url: '/api/dead-letters/dl-404/replay', headers: { ...AUTH, 'x-postroom-request': '1' }, remoteAddress: from }))
        .statusCode,
      404,
    );
    assert.equal(
      (await api.app.inject({ method: 'DELETE', url: '/api/connections/shop', headers: { ...AUTH, 'x-postroom-request': '1' }, remoteAddress: from }))
        .statusCode,
      204,
    );
    assert.equal((await api.app.inject({ method: 'GET', url: '/api/connections', headers: AUTH, remoteAddress: from })).statusCode, 200);
    assert.equal((await open.app.inject({ method: 'POST', url: '/api/dead-letters/replay-all', headers: { 'x-postroom-request': '1' } })).statusCode, 200);

    const mutations = audit('mutation').map(({ level, who, method, route, connection, deadLetter, ip, status }) => ({
      level,
      who,
      method,
      route,
      connection,
      deadLetter,
      ip,
      status,
    }));
    assert.deepEqual(
      mutations,
      [
        { level: INFO, who: 'token', method: 'POST', route: '/api/connections', connection: 'shop', deadLetter: undefined, ip: from, status: 201 },
        {
          level: INFO,
          who: 'token',
          method: 'POST',
          route: '/api/connections/:name/disable',
          connection: 'shop',
          deadLetter: undefined,
          ip: from,
          status: 200,
        },
        {
          level: INFO,
          who: 'token',
          method: 'POST',
          route: '/api/dead-letters/:id/replay',
          connection: undefined,
          deadLetter: 'dl-404',
          ip: from,
          status: 404,
        },
        { level: INFO, who: 'token', method: 'DELETE', route: '/api/connections/:name', connection: 'shop', deadLetter: undefined, ip: from, status: 204 },
        {
          level: INFO,
          who: 'loopback',
          method: 'POST',
          route: '/api/dead-letters/replay-all',
          connection: undefined,
          deadLetter: undefined,
          ip: '127.0.0.1',
          status: 200,
        },
      ],
      'one line per mutation, none for a read',
    );
  });

  it('warns once per refused request, with the address and the reason', async () => {
    const before = audit('refused').length;
    await api.app.inject({ method: 'GET', url: '/api/status', headers: { authorization: `Bearer ${WRONG}` }, remoteAddress: '10.1.1.1' });
    await api.app.inject({ method: 'GET', url: '/api/status', remoteAddress: '10.1.1.2' });
    await api.app.inject({
      method: 'POST',
      url: '/api/dead-letters/replay-all',
      headers: { ...AUTH, 'content-type': 'text/plain' },
      payload: 'x',
      remoteAddress: '10.1.1.3',
    });
    await open.app.inject({ method: 'GET', url: '/api/connections', headers: { host: 'rebind.attacker.example' }, remoteAddress: '127.0.0.1' });
    const refused = audit('refused')
      .slice(before)
      .map(({ level, code, ip, reason }) => ({ level, code, ip, reason: String(reason) }));
    assert.equal(refused.length, 4, JSON.stringify(refused));
    assert.deepEqual(
      refused.map(({ level, code, ip }) => ({ level, code, ip })),
      [
        { level: WARN, code: 'UNAUTHORIZED', ip: '10.1.1.1' },
        { level: WARN, code: 'UNAUTHORIZED', ip: '10.1.1.2' },
        { level: WARN, code: 'REQUEST_REFUSED', ip: '10.1.1.3' },
        { level: WARN, code: 'REQUEST_REFUSED', ip: '127.0.0.1' },
      ],
    );
    assert.match(refused[0]!.reason, /not the one configured/);
    assert.match(refused[1]!.reason, /send Authorization/);
    assert.match(refused[3]!.reason, /rebind\.attacker\.example/);
  });

  it('never logs a token, a password or a body', () => {
    const text = chunks.join('');
    for (const secret of [TOKEN, WRONG, PASSWORD, '"authorization"', 'payload']) assert.ok(!text.includes(secret), `${secret} is not in the log`);
  });
});
