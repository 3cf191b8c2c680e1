/**
 * With api.tls the control plane speaks HTTPS only, with the configured certificate, and says
 * https:// when it starts; a missing, unreadable or mismatched PEM file stops the start with an
 * error naming the field. Over a real socket, with a certificate made for this run.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openControlPlane } from '../../src/api/control-plane.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createDestination } from '../../src/destinations/registry.ts';
import { Worker } from '../../src/engine/worker.ts';
import { isPostroomError } from '../../src/model/errors.ts';
import { generateTestCertificate, type TestCertificate } from '../support/fake-certificate.ts';
import { openWorkspaceStore, quietLog, type Workspace, workspace } from '../support/postroom.ts';
import { AUTH, startApi, TOKEN } from './api-kit.ts';

function get(url: string, options: { ca?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string; certificate?: string }> {
  return new Promise((resolve, reject) => {
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    const request = send(url, { headers: options.headers ?? {}, ...(options.ca ? { ca: options.ca } : {}) }, (response) => {
      const chunks: Buffer[] = [];
      const peer = 'getPeerCertificate' in response.socket ? (response.socket as import('node:tls').TLSSocket).getPeerCertificate() : undefined;
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ...(peer ? { certificate: peer.fingerprint256 } : {}) }),
      );
    });
    request.on('error', reject);
    request.end();
  });
}

describe('the API over HTTPS', () => {
  let ws: Workspace;
  let cert: TestCertificate;
  let certPath: string;
  let keyPath: string;

  before(async () => {
    ws = await workspace();
    cert = await generateTestCertificate();
    certPath = join(ws.dir, 'api-cert.pem');
    keyPath = join(ws.dir, 'api-key.pem');
    await writeFile(certPath, cert.certPem);
    await writeFile(keyPath, cert.keyPem, { mode: 0o600 });
  });
  after(async () => {
    await ws?.dispose();
  });

  it('serves the API, the UI and /healthz over HTTPS with the configured certificate, and no plain HTTP', async () => {
    const api = await startApi(ws, { extra: { api: { token: 'x'.repeat(32), tls: { cert: certPath, key: keyPath } } } });
    try {
      const base = await api.app.listen({ host: '127.0.0.1', port: 0 });
      assert.match(base, /^https:\/\/127\.0\.0\.1:\d+$/);
      const status = await get(`${base}/api/status`, { ca: cert.certPem, headers: { authorization: `Bearer ${'x'.repeat(32)}` } });
      assert.equal(status.status, 200, status.body);
      assert.ok(status.certificate, 'a certificate was presented');
      assert.equal((await get(`${base}/healthz`, { ca: cert.certPem })).status, 200);
      assert.equal((await get(`${base}/`, { ca: cert.certPem })).status, 200);
      assert.equal((await get(`${base}/api/status`, { ca: cert.certPem })).status, 401, 'the token is still needed');
      await assert.rejects(get(`${base}/healthz`), /self-signed|certificate/i, 'a client that does not trust it is refused');
      const plain = await get(`${base.replace('https:', 'http:')}/api/status`, { headers: AUTH }).catch((error: unknown) => error);
      assert.ok(plain instanceof Error || (plain as { status: number }).status >= 400, 'plain HTTP gets nothing');
    } finally {
      await api.close();
    }
  });

  it("says https:// when postroom run starts, and reads relative paths from the config file's directory", async () => {
    const file = join(ws.dir, 'postroom.yaml');
    await writeFile(
      file,
      `store: ${ws.dataDir}\ndestinations:\n  out: { type: directory, path: ${ws.outDir} }\napi:\n  listen: 127.0.0.1:0\n  token: ${TOKEN}\n  tls: { cert: api-cert.pem, key: api-key.pem }\n`,
    );
    const { config } = loadConfig(file, {});
    assert.equal(config.api.tls?.cert, certPath);
    const opened = await openWorkspaceStore(config);
    const plane = await openControlPlane({ config, opened, log: quietLog });
    const worker = new Worker({ createDestination, config, opened, log: quietLog, ...plane.workerOptions });
    const server = await plane.listen(worker);
    try {
      assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
      assert.equal((await get(`${server.url}api/connections`, { ca: cert.certPem, headers: AUTH })).status, 200);
    } finally {
      await server.close();
      await worker.stop();
      await opened.store.close();
    }
  });

  it('refuses to start with a missing, unreadable or mismatched file, naming the field', async () => {
    const garbage = join(ws.dir, 'not-a-key.pem');
    await writeFile(garbage, 'not a key');
    const unreadable = join(ws.dir, 'unreadable.pem');
    await writeFile(unreadable, cert.keyPem, { mode: 0o000 });
    const cases: Array<[{ cert: string; key: string }, RegExp]> = [
      [{ cert: join(ws.dir, 'missing.pem'), key: keyPath }, /api\.tls\.cert: cannot read ".*missing\.pem" \(ENOENT\)/],
      [{ cert: certPath, key: join(ws.dir, 'missing-key.pem') }, /api\.tls\.key: cannot read/],
      [{ cert: certPath, key: garbage }, /api\.tls: .* are not a PEM certificate and its private key/],
      [{ cert: keyPath, key: keyPath }, /api\.tls: /],
      ...(process.getuid?.() === 0
        ? []
        : [[{ cert: certPath, key: unreadable }, /api\.tls\.key: cannot read .*\(EACCES\)/] as [{ cert: string; key: string }, RegExp]]),
    ];
    for (const [tls, message] of cases) {
      await assert.rejects(startApi(ws, { extra: { api: { tls } } }), (error: unknown) => {
        assert.ok(isPostroomError(error, 'CONFIG_INVALID'), String(error));
        assert.match(error.explain(), message);
        assert.ok(!error.explain().includes('PRIVATE KEY'), 'no key material in the error');
        return true;
      });
    }
  });
});
