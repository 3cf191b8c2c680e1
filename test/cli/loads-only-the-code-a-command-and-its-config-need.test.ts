/**
 * Start-up: `postroom --help` loads no package but the argument parser, `validate` loads no
 * driver, and `run --once` on an IMAP + directory config loads IMAP and SQLite but no other
 * destination's client, no PostgreSQL, no HTTP server and no bundler. A module hook in the child
 * records every URL it resolves.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { CLI, REPO_ROOT, writeConfigFile } from '../support/cli.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { type Workspace, workspace } from '../support/postroom.ts';

let dovecot: Dovecot;
let ws: Workspace;
let configPath: string;
const PASSWORD = 'pw-lazy-loading-4c1e';
/** What neither command needs for this config. */
const NEVER = [
  'amqplib',
  'nats',
  'ioredis',
  'nodemailer',
  'pg',
  'fastify',
  'esbuild',
  'prom-client',
  '@opentelemetry/sdk-trace-base',
  '@opentelemetry/exporter-trace-otlp-http',
];

before(async () => {
  dovecot = await startDovecot();
  ws = await workspace();
  await dovecot.addUser('lazy', PASSWORD);
  configPath = await writeConfigFile(ws.dir, {
    store: './data',
    destinations: { files: { type: 'directory', path: './out' } },
    connections: [
      { name: 'orders', hostType: 'imap', host: '127.0.0.1', port: dovecot.imapsPort, username: 'lazy', password: '${LAZY_PW}', tls: { ca: dovecot.caPath } },
    ],
  });
  await writeFile(
    join(ws.dir, 'record-hooks.mjs'),
    `import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(log, result.url + '\\n');
  return result;
}
`,
  );
  await writeFile(
    join(ws.dir, 'record.mjs'),
    `import { register } from 'node:module';
register(${JSON.stringify(pathToFileURL(join(ws.dir, 'record-hooks.mjs')).href)}, { data: { log: process.env.RECORD_LOG } });
`,
  );
});
after(async () => {
  await dovecot?.stop();
  await ws?.dispose();
});

/** Runs the CLI with the recording hook; returns its exit code, output and the packages it loaded. */
async function packagesLoadedBy(args: string[], name: string): Promise<{ code: number | null; output: string; packages: Map<string, string> }> {
  const log = join(ws.dir, `${name}.resolved`);
  await writeFile(log, '');
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), '--import', pathToFileURL(join(ws.dir, 'record.mjs')).href, CLI, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, RECORD_LOG: log, LAZY_PW: PASSWORD },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const packages = new Map<string, string>(); // name -> the first URL of it
  for (const url of (await readFile(log, 'utf8')).split('\n')) {
    // The outermost package: a dependency's own nested copy (mailparser's nodemailer) counts as that dependency.
    const match = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (match && !packages.has(match[1]!)) packages.set(match[1]!, url);
  }
  return { code, output, packages };
}

it('--help loads no package but the argument parser', async () => {
  const { code, output, packages } = await packagesLoadedBy(['--help'], 'help');
  assert.equal(code, 0, output);
  assert.match(output, /Usage: postroom/);
  assert.deepEqual(
    [...packages.keys()].filter((name) => name !== 'commander'),
    [],
  );
});

it('validate loads no driver: no store, no source, no destination client, no HTTP server', async () => {
  const { code, output, packages } = await packagesLoadedBy(['--config', configPath, 'validate'], 'validate');
  assert.equal(code, 0, output);
  for (const name of [...NEVER, 'imapflow', 'better-sqlite3', 'kysely', 'mailparser', 'pino'])
    assert.ok(!packages.has(name), `validate loaded ${packages.get(name)}`);
});

it('run --once on an IMAP + directory config loads IMAP and SQLite, and nothing of the other drivers', async () => {
  const { code, output, packages } = await packagesLoadedBy(['--config', configPath, 'run', '--once'], 'run-once');
  assert.equal(code, 0, output);
  assert.match(output, /orders: 0 new email\(s\)/);
  for (const name of ['imapflow', 'better-sqlite3'])
    assert.ok(packages.has(name), `run --once did not load ${name}: the hook saw ${[...packages.keys()].join(', ')}`);
  for (const name of NEVER) assert.ok(!packages.has(name), `run --once loaded ${packages.get(name)}`);
});

it('trace reads the store and loads no source, no destination client and no HTTP server', async () => {
  const { code, output, packages } = await packagesLoadedBy(['--config', configPath, 'trace', '--json'], 'trace');
  assert.equal(code, 1, output);
  assert.match(output, /no email matches/);
  assert.ok(packages.has('better-sqlite3'), `trace did not open the store: the hook saw ${[...packages.keys()].join(', ')}`);
  for (const name of [...NEVER, 'imapflow', 'mailparser']) assert.ok(!packages.has(name), `trace loaded ${packages.get(name)}`);
});
