/**
 * A tls.ca path in postroom.yaml is read only when it is a regular file of at most 1 MiB: a FIFO
 * would block the process on open, /dev/zero would be read without end.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AUTH, startApi, type ApiHarness } from './api-kit.ts';
import { startCatcher, type Catcher } from './catcher.ts';
import { workspace, type Workspace } from '../support/postroom.ts';

describe('a CA file named in postroom.yaml', () => {
  let ws: Workspace;
  let api: ApiHarness;
  let server: Catcher;

  before(async () => {
    ws = await workspace();
    server = await startCatcher('pop3');
    const fifo = join(ws.dir, 'ca.fifo');
    execFileSync('mkfifo', [fifo]);
    const big = join(ws.dir, 'big.pem');
    await writeFile(big, Buffer.alloc(2 * 1024 * 1024, 'A'));
    const connection = (name: string, ca: string) => ({ name, hostType: 'pop3', host: '127.0.0.1', port: server.port, useSsl: true, username: 'u', password: 'pw', tls: { ca }, destination: 'out' }) as never;
    api = await startApi(ws, { connections: [connection('fifo', fifo), connection('big', big), connection('zero', '/dev/zero')] });
  });
  after(async () => {
    await api?.close();
    await server?.close();
    await ws?.dispose();
  });

  for (const [name, reason] of [
    ['fifo', /is not a regular file/],
    ['zero', /is not a regular file/],
    ['big', /is larger than 1 MiB/],
  ] as const) {
    it(`fails the tls step of ${name} with the reason, without hanging`, async () => {
      const response = await api.app.inject({ method: 'POST', url: `/api/connections/${name}/check`, headers: AUTH });
      assert.equal(response.statusCode, 200, response.body);
      const tls = response.json().steps.find((s: { step: string }) => s.step === 'tls');
      assert.equal(tls?.ok, false);
      // The API shows only the catalogue's reason; the service's own check (and its log) names the file.
      const { pop3Source } = await import('../../src/sources/pop3/pop3-source.ts');
      const steps = await pop3Source.check(api.connections.get(name)!.config!, { log: undefined as never });
      assert.match(steps.find((s) => s.step === 'tls')?.detail ?? '', reason);
    });
  }
});
