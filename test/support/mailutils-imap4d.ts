/**
 * A private GNU Mailutils imap4d (Debian's mailutils-imap4d) for interoperability tests: a second
 * IMAP server besides Dovecot, with faults of its own (its UID SEARCH with a UID range answers
 * nothing; it has neither MOVE nor UIDPLUS).
 *
 * It runs in the foreground as a child of the test, from a config in its own temp dir, on a free
 * loopback port, without TLS. Users live in a virtual-domain password file (`virtdomain`, one
 * passwd(5) line per user, the password crypt(3)-hashed) and log in as `name@postroom.test`; each
 * user's INBOX is the maildir `<home>/INBOX`, other folders `<home>/<name>`.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { listenOnEphemeralPort } from './dovecot/process.ts';
import { waitFor } from './wait-for.ts';

const DOMAIN = 'postroom.test';

export interface MailutilsUser {
  /** The login name, `name@postroom.test`. */
  name: string;
  password: string;
  home: string;
}

export interface MailutilsMessage {
  uid: number;
  flags: string[];
}

export interface MailutilsImap4d {
  host: '127.0.0.1';
  port: number;
  addUser(name: string, password: string): Promise<MailutilsUser>;
  /** Writes emails straight into a user's INBOX maildir (new/, unseen; cur/ when seen), with LF line ends. */
  deliverMany(user: MailutilsUser, raws: Iterable<Buffer | string>, options?: { seen?: boolean }): Promise<void>;
  /** Creates a folder (an empty maildir next to INBOX). */
  createFolder(user: MailutilsUser, folder: string): Promise<void>;
  /** What a folder holds, through an IMAP session of its own (EXAMINE: nothing changes). */
  listMessages(user: MailutilsUser, folder?: string): Promise<MailutilsMessage[]>;
  /** Sets flags on messages through an IMAP session of its own (another client at work). */
  flag(user: MailutilsUser, uids: string, flags: string[]): Promise<void>;
  log(): string;
  stop(): Promise<void>;
}

/** Whether Debian's imap4d is installed (scripts/test.sh installs it). */
export function hasImap4d(): boolean {
  try {
    execFileSync('imap4d', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export async function startImap4d(): Promise<MailutilsImap4d> {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-imap4d-'));
  const passwdDir = join(dir, 'passwd');
  await mkdir(passwdDir);
  await writeFile(join(passwdDir, DOMAIN), '');
  const probe = await listenOnEphemeralPort();
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const configPath = join(dir, 'imap4d.conf');
  await writeFile(
    configPath,
    [
      'mode daemon;',
      'foreground true;',
      `pidfile "${join(dir, 'imap4d.pid')}";`,
      // virtdomain finds the user and its home; generic checks the password against the crypt(3) hash.
      'auth { authentication generic; authorization virtdomain; };',
      `virtdomain { passwd-dir "${passwdDir}"; };`,
      'mailbox { mailbox-type maildir; };',
      'logging { syslog false; };',
      `server 127.0.0.1:${port} { tls-mode false; };`,
      '',
    ].join('\n'),
  );
  let output = '';
  const child: ChildProcess = spawn('imap4d', [`--config-file=${configPath}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(`imap4d listening on ${port}`, () => child.exitCode === null && canConnect(port), 10_000).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw new Error(`${String(error)}\n--- imap4d said ---\n${output}`);
  });

  const session = async <T>(user: MailutilsUser, work: (client: ImapFlow) => Promise<T>): Promise<T> => {
    const client = new ImapFlow({ host: '127.0.0.1', port, secure: false, doSTARTTLS: false, auth: { user: user.name, pass: user.password }, logger: false });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.logout().catch(() => client.close());
    }
  };
  let sequence = 0;
  const maildir = async (path: string): Promise<void> => {
    for (const sub of ['new', 'cur', 'tmp']) await mkdir(join(path, sub), { recursive: true });
  };

  return {
    host: '127.0.0.1',
    port,
    async addUser(name, password) {
      const home = join(dir, 'home', name);
      await maildir(join(home, 'INBOX'));
      const hash = execFileSync('openssl', ['passwd', '-6', '-stdin'], { input: password }).toString().trim();
      // passwd(5): name:hash:uid:gid:gecos:home:shell. imap4d runs as the test's user and reads the files as it.
      await appendFile(join(passwdDir, DOMAIN), `${name}:${hash}:${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}::${home}:/bin/false\n`);
      return { name: `${name}@${DOMAIN}`, password, home };
    },
    async deliverMany(user, raws, options = {}) {
      for (const raw of raws) {
        const base = `${Date.now()}.P${process.pid}Q${sequence++}.postroom`;
        const path = options.seen ? join(user.home, 'INBOX', 'cur', `${base}:2,S`) : join(user.home, 'INBOX', 'new', base);
        // A maildir holds messages with bare LF line ends (imap4d reads a CRLF file as empty); the server sends CRLF.
        await writeFile(path, Buffer.from(Buffer.from(raw).toString('latin1').replace(/\r\n/g, '\n'), 'latin1'));
      }
    },
    async createFolder(user, folder) {
      await maildir(join(user.home, folder));
    },
    listMessages(user, folder = 'INBOX') {
      return session(user, async (client) => {
        const mailbox = await client.mailboxOpen(folder, { readOnly: true });
        if (mailbox.exists === 0) return [];
        const fetched = await client.fetchAll('1:*', { uid: true, flags: true });
        return fetched.map((m) => ({ uid: m.uid, flags: [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort() })).sort((a, b) => a.uid - b.uid);
      });
    },
    flag(user, uids, flags) {
      return session(user, async (client) => {
        await client.mailboxOpen('INBOX');
        if (!(await client.messageFlagsAdd(uids, flags, { uid: true }))) throw new Error(`imap4d refused to flag ${uids}`);
      });
    },
    log: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
