import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { it } from 'node:test';
import { CLI, REPO_ROOT, writeConfigFile } from '../support/cli.ts';
import { makeEmail } from '../support/corpus.ts';
import { dovecotAndWorkspace } from '../support/dovecot-and-workspace.ts';

const { dovecot, ws } = await dovecotAndWorkspace();

/** Runs the CLI under `script`, which gives it a real pseudo-terminal, and returns what the terminal showed. */
function runOnTerminal(args: string[]): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, '--import', import.meta.resolve('tsx'), CLI, ...args].map((part) => `'${part.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let screen = '';
    child.stdout.on('data', (chunk: Buffer) => (screen += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (screen += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, screen }));
  });
}

it('shows emails done of total per connection on a terminal', async () => {
  for (const name of ['alpha', 'beta']) {
    await dovecot.addUser(name, `pw-${name}`);
    await dovecot.deliverMany(
      name,
      [1, 2, 3].map((i) => makeEmail({ subject: `${name} ${i}`, text: 'x' }).raw),
    );
  }
  const path = await writeConfigFile(ws.dir, {
    store: './data',
    destinations: { out: { type: 'directory', path: './out' } },
    connections: ['alpha', 'beta'].map((name) => ({
      name,
      hostType: 'imap',
      host: '127.0.0.1',
      port: dovecot.imapsPort,
      username: name,
      password: `pw-${name}`,
      tls: { ca: dovecot.caPath },
    })),
    api: { enabled: false },
  });
  const { code, screen } = await runOnTerminal(['--config', path, 'run', '--once']);
  assert.equal(code, 0, screen);
  assert.match(screen, /alpha\s+3\/3 emails/);
  assert.match(screen, /beta\s+3\/3 emails/);
});
