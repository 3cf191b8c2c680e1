/** Runs Postroom in-process against a test config, and reads what landed in a destination directory. */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { type Config, type ConfigInput, type ConnectionInput, configSchema } from '../../src/config/schema.ts';
import type { Envelope } from '../../src/model/envelope.ts';
import { PostroomService } from '../../src/service/postroom-service.ts';
import { type OpenedStore, openStore } from '../../src/store/open-store.ts';
import { throttleAccount } from '../../src/throttle/account.ts';
import type { Dovecot } from './dovecot.ts';

/**
 * The key that seals secrets at rest in every test store (and in the CLI children the tests start,
 * which inherit the environment): the API refuses to store a password without one.
 */
export const TEST_SECRET_KEY = '6f0c2a9d4b8e13f75a2c9e0d4b6f8a1c3e5d7f9b0a2c4e6f8d0b2a4c6e8f0a1b';
process.env.POSTROOM_SECRET_KEY ??= TEST_SECRET_KEY;

export const quietLog = pino({ level: process.env.POSTROOM_TEST_LOG ?? 'silent' });

export interface Workspace {
  dir: string;
  dataDir: string;
  outDir: string;
  dispose(): Promise<void>;
}

export async function workspace(): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-test-'));
  return { dir, dataDir: join(dir, 'data'), outDir: join(dir, 'out'), dispose: () => rm(dir, { recursive: true, force: true }) };
}

/** A connection to the test Dovecot over implicit TLS, trusting its test CA. */
function dovecotConnection(
  hostType: 'imap' | 'pop3',
  port: number,
  dovecot: Dovecot,
  user: { name: string; password: string },
  extra: Partial<ConnectionInput>,
): ConnectionInput {
  return {
    name: 'inbox',
    hostType,
    host: '127.0.0.1',
    port,
    useSsl: true,
    username: user.name,
    password: user.password,
    tls: { ca: dovecot.caPem },
    pollingInterval: '60s',
    destination: 'out',
    ...extra,
  } as ConnectionInput;
}

export function imapConnection(dovecot: Dovecot, user: { name: string; password: string }, extra: Partial<ConnectionInput> = {}): ConnectionInput {
  return dovecotConnection('imap', dovecot.imapsPort, dovecot, user, extra);
}

export function pop3Connection(dovecot: Dovecot, user: { name: string; password: string }, extra: Partial<ConnectionInput> = {}): ConnectionInput {
  return dovecotConnection('pop3', dovecot.pop3sPort, dovecot, user, extra);
}

export function testConfig(ws: Workspace, connections: ConnectionInput[], extra: Partial<ConfigInput> = {}): Config {
  return configSchema.parse({ store: ws.dataDir, destinations: { out: { type: 'directory', path: ws.outDir } }, connections, ...extra });
}

export async function openWorkspaceStore(config: Config): Promise<OpenedStore> {
  return openStore(config.store, config.contentDir ? { contentDir: config.contentDir } : {});
}

/** Ends the throttle a cut connection put on the config's first connection's account, so the next run reads at once. */
export async function endThrottle(config: Config): Promise<void> {
  const opened = await openWorkspaceStore(config);
  try {
    await opened.store.clearThrottle(throttleAccount(config.connections[0]!));
  } finally {
    await opened.store.close();
  }
}

/** `run --once` in-process: poll every connection, deliver everything, stop. */
export async function runOnce(config: Config) {
  const service = await PostroomService.open({ config, log: quietLog, mode: 'once' });
  try {
    return await service.runOnce();
  } finally {
    await service.stop();
  }
}

export interface Delivered {
  envelope: Envelope;
  data: Buffer;
  sha256: string;
}

/** Every complete pipeline message in a directory destination (a present .json means complete). */
export async function readDelivered(outDir: string): Promise<Delivered[]> {
  let names: string[];
  try {
    names = await readdir(outDir);
  } catch {
    return [];
  }
  const delivered: Delivered[] = [];
  for (const name of names.filter((n) => n.endsWith('.json') && !n.startsWith('.'))) {
    const envelope = JSON.parse(await readFile(join(outDir, name), 'utf8')) as Envelope;
    const data = await readFile(join(outDir, `${envelope.id}.data`));
    delivered.push({ envelope, data, sha256: createHash('sha256').update(data).digest('hex') });
  }
  return delivered.sort((a, b) => (a.envelope.source.uid ?? 0) - (b.envelope.source.uid ?? 0) || a.envelope.partIndex - b.envelope.partIndex);
}

/** Groups delivered pipeline messages by email subject. */
export function bySubject(delivered: Delivered[]): Map<string, Delivered[]> {
  const groups = new Map<string, Delivered[]>();
  for (const item of delivered) {
    const subject = item.envelope.email.subject ?? '';
    groups.set(subject, [...(groups.get(subject) ?? []), item]);
  }
  return groups;
}
