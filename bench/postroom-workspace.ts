/** A throwaway directory with a postroom.yaml for one run of the real CLI against the bench Dovecot. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Dovecot, DovecotUser } from '../test/support/dovecot.ts';

export type Protocol = 'imap' | 'pop3';

export interface PostroomWorkspace {
  dir: string;
  configPath: string;
  outDir: string;
  dispose(): Promise<void>;
}

export interface WorkspaceOptions {
  /** IMAP IDLE on (the latency run, service mode); off for `run --once`, where it plays no part. */
  idle?: boolean;
  /** `parsing.threads`; default: BENCH_PARSE_THREADS, else Postroom's own default (auto). */
  parseThreads?: number;
}

function parseThreads(options: WorkspaceOptions): number | undefined {
  if (options.parseThreads !== undefined) return options.parseThreads;
  return process.env.BENCH_PARSE_THREADS ? Number(process.env.BENCH_PARSE_THREADS) : undefined;
}

export async function postroomWorkspace(dovecot: Dovecot, user: DovecotUser, protocol: Protocol, options: WorkspaceOptions = {}): Promise<PostroomWorkspace> {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-bench-'));
  const outDir = join(dir, 'out');
  await mkdir(outDir);
  const connection = {
    name: 'bench',
    hostType: protocol,
    host: dovecot.host,
    // Implicit TLS, as in production; the raw clients use TLS too, so the ratio compares clients.
    port: protocol === 'imap' ? dovecot.imapsPort : dovecot.pop3sPort,
    useSsl: true,
    tls: { ca: dovecot.caPem },
    username: user.name,
    password: user.password,
    sendAttachments: true,
    sendMessageBody: true,
    pollingInterval: '1h',
    destination: 'out',
    ...(protocol === 'imap' ? { idle: options.idle ?? false } : {}),
  };
  const config = {
    store: join(dir, 'data'),
    destinations: { out: { type: 'directory', path: outDir } },
    connections: [connection],
    api: { enabled: false },
    ...(parseThreads(options) !== undefined ? { parsing: { threads: parseThreads(options) } } : {}),
    // The large-email run's 100 MB attachment is ~137 MB as base64, over the default
    // limits.maxEmailBytes (100 MiB): raised so it is split, which is what is measured.
    limits: { maxEmailBytes: 1024 * 1024 * 1024 },
    // The latency run reads the watcher's debug line that marks when the server announced the mail.
    log: { level: options.idle ? 'debug' : 'warn' },
  };
  const configPath = join(dir, 'postroom.yaml');
  await writeFile(configPath, stringify(config));
  return { dir, configPath, outDir, dispose: () => rm(dir, { recursive: true, force: true }) };
}
