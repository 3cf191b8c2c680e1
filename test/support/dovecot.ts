/**
 * A private, throwaway Dovecot (IMAP + POP3, plain and implicit TLS) for tests and benchmarks.
 *
 * Each instance lives in its own temp dir (config, certificate, mail, logs, runtime sockets),
 * listens on free loopback ports and is torn down by `stop()`. Several instances can run at once.
 *
 * Helper IMAP sessions (append, listMessages, createFolder) connect from 127.0.0.2 when the
 * machine allows it, so they are not counted by `mail_max_userip_connections` against the
 * client under test, which connects from 127.0.0.1.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import type { ImapTransport } from 'imapflow';

export interface DovecotOptions {
  /** mail_max_userip_connections (Dovecot's own throttling); default 50. */
  maxUserIpConnections?: number;
  /** pop3_uidl_format; default '%08Xu%08Xv'. */
  pop3UidlFormat?: string;
  /**
   * Keep Dovecot's delays after a failed login: auth_failure_delay (2 s) plus anvil's per-IP
   * auth penalty, which grows to 4 s and more from the second failure on. Default false: a bad
   * password is refused in about 0.5 s, so auth-failure tests stay fast and do not slow
   * each other down.
   */
  authFailureDelays?: boolean;
  /**
   * Extra raw dovecot.conf lines appended at the end (e.g. an oauth2 passdb). Later settings
   * override earlier ones, so this can also change anything set above.
   */
  extraConfig?: string;
}

export interface DovecotUser {
  name: string;
  password: string;
  home: string;
  maildir: string;
}

export interface DovecotMessage {
  uid: number;
  flags: string[];
  size: number;
  source?: Buffer;
}

export interface DeliverOptions {
  folder?: string;
  flags?: string[];
}

export interface Dovecot {
  host: '127.0.0.1';
  /** Plain IMAP (STARTTLS available). */
  imapPort: number;
  /** IMAP over implicit TLS. */
  imapsPort: number;
  /** Plain POP3 (STLS available). */
  pop3Port: number;
  /** POP3 over implicit TLS. */
  pop3sPort: number;
  /** PEM of the self-signed certificate (CN/SAN localhost + 127.0.0.1), to trust as a CA. */
  caPem: string;
  caPath: string;
  /** Temp dir holding config, certs, mail, logs. */
  dir: string;
  configPath: string;
  logPath: string;
  /** The options currently in effect (defaults filled in). */
  readonly options: Readonly<Required<DovecotOptions>>;
  addUser(name: string, password: string): Promise<DovecotUser>;
  /**
   * Writes emails straight into a user's Maildir (fast, before a client connects). folder
   * 'INBOX' or a name like 'Archive' (the maildir++ folder '.Archive' is created if missing).
   * With flags (e.g. ['\\Seen']) the file goes to cur/, otherwise to new/.
   */
  deliver(user: string, raw: Buffer | string, options?: DeliverOptions): Promise<void>;
  /** deliver() for many emails at once; their UIDs follow the iteration order. */
  deliverMany(user: string, raws: Iterable<Buffer | string>, options?: DeliverOptions): Promise<void>;
  /** IMAP APPEND through a real IMAP login, for mail arriving while a client is connected. */
  append(user: string, raw: Buffer | string, options?: DeliverOptions): Promise<void>;
  /**
   * Lists what is in a folder via IMAP (read-only, so nothing changes): uid, flags (sorted,
   * without \\Recent), size (RFC822.SIZE), and the raw source when asked.
   */
  listMessages(user: string, options?: { folder?: string; source?: boolean }): Promise<DovecotMessage[]>;
  /** Creates (and subscribes) a folder via IMAP. */
  createFolder(user: string, folder: string): Promise<void>;
  /** The last N lines of the Dovecot log (show it when a test fails). */
  tail(lines?: number): Promise<string>;
  /**
   * Merges `options` into the current ones, rewrites the config and reloads Dovecot (SIGHUP):
   * open sessions survive, new logins see the new settings once this resolves.
   */
  reconfigure(options: DovecotOptions): Promise<void>;
  /**
   * Stops and starts again on the same ports (new ones only if another process took them
   * meanwhile); open sessions are cut, users and mail are kept.
   */
  restart(): Promise<void>;
  /** Stops Dovecot, waits until its master process is gone and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
/** Loopback address the helper IMAP sessions connect from (see the module comment). */
const HELPER_ADDRESS = '127.0.0.2';
const MAIL_OWNER = 'dovenull';
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;
const PORT_RETRIES = 5;

const DEFAULT_OPTIONS: Required<DovecotOptions> = {
  maxUserIpConnections: 50,
  pop3UidlFormat: '%08Xu%08Xv',
  authFailureDelays: false,
  extraConfig: '',
};

/** Masters started by this process, killed on exit so a crashed test leaves nothing behind. */
const runningMasters = new Map<string, number>(); // temp dir -> master pid
let exitHookInstalled = false;

interface Ports {
  imap: number;
  imaps: number;
  pop3: number;
  pop3s: number;
}

interface Paths {
  dir: string;
  configPath: string;
  baseDir: string;
  stateDir: string;
  logPath: string;
  certPath: string;
  keyPath: string;
  /** One passwd-file per user (see renderConfig). */
  usersDir: string;
  homesDir: string;
}

interface MailOwner {
  uid: number;
  gid: number;
}

export async function startDovecot(options: DovecotOptions = {}): Promise<Dovecot> {
  installExitHook();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pr-dovecot-'));
  try {
    return await createInstance(dir, { ...DEFAULT_OPTIONS, ...options });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function createInstance(dir: string, initialOptions: Required<DovecotOptions>): Promise<Dovecot> {
  // Mail processes run as the mail owner and must be able to walk down to the homes.
  await chmod(dir, 0o755);
  const paths = pathsIn(dir);
  const owner = mailOwner();
  const certificate = await selfSignedCertificate();
  await writeFile(paths.certPath, certificate.certPem);
  await writeFile(paths.keyPath, certificate.keyPem, { mode: 0o600 });
  await mkdir(paths.homesDir, { mode: 0o755 });
  await mkdir(paths.usersDir, { mode: 0o755 });

  const instanceName = `postroom-${path.basename(dir)}`;
  const users = new Map<string, DovecotUser>();
  const helperAddress = await usableHelperAddress();
  let options = initialOptions;
  let ports = await launchOnFreePorts(paths, instanceName, options);
  let stopped = false;

  const writeConfig = async (): Promise<void> => {
    await writeFile(paths.configPath, renderConfig(paths, instanceName, ports, options));
  };

  const userOrThrow = (name: string): DovecotUser => {
    const user = users.get(name);
    if (!user) throw new Error(`Dovecot test user ${name} does not exist; call addUser first`);
    return user;
  };

  const imapSession = async <T>(name: string, work: (client: ImapFlow) => Promise<T>): Promise<T> => {
    const user = userOrThrow(name);
    return withImapSession({ port: ports.imap, user, helperAddress }, work);
  };

  const instance: Dovecot = {
    host: HOST,
    get imapPort() {
      return ports.imap;
    },
    get imapsPort() {
      return ports.imaps;
    },
    get pop3Port() {
      return ports.pop3;
    },
    get pop3sPort() {
      return ports.pop3s;
    },
    caPem: certificate.certPem,
    caPath: paths.certPath,
    dir,
    configPath: paths.configPath,
    logPath: paths.logPath,
    get options() {
      return options;
    },

    async addUser(name, password) {
      assertValidCredentials(name, password);
      if (users.has(name)) throw new Error(`Dovecot test user ${name} already exists`);
      const home = path.join(paths.homesDir, name);
      const user: DovecotUser = { name, password, home, maildir: path.join(home, 'Maildir') };
      await mkdir(home, { mode: 0o700 });
      await chown(home, owner.uid, owner.gid);
      await ensureMaildir(user.maildir, owner);
      // Renamed into place so the auth process never reads a half-written file.
      await writeFileAtomically(path.join(paths.usersDir, name), passwdLine(user, owner), 0o644);
      users.set(name, user);
      return user;
    },

    async deliver(name, raw, deliverOptions = {}) {
      const user = userOrThrow(name);
      const folderDir = await ensureFolder(user, deliverOptions.folder, owner);
      await writeMaildirMessage(folderDir, toBuffer(raw), deliverOptions.flags ?? [], owner);
    },

    async deliverMany(name, raws, deliverOptions = {}) {
      const user = userOrThrow(name);
      const folderDir = await ensureFolder(user, deliverOptions.folder, owner);
      const flags = deliverOptions.flags ?? [];
      await forEachConcurrently(raws, 32, (raw) => writeMaildirMessage(folderDir, toBuffer(raw), flags, owner));
    },

    async append(name, raw, appendOptions = {}) {
      const folder = imapFolderName(appendOptions.folder);
      await imapSession(name, async (client) => {
        const result = await client.append(folder, toBuffer(raw), appendOptions.flags ?? []);
        if (result === false) throw new Error(`IMAP APPEND to ${folder} for ${name} failed`);
      });
    },

    async listMessages(name, listOptions = {}) {
      const folder = imapFolderName(listOptions.folder);
      return imapSession(name, (client) => fetchFolder(client, folder, listOptions.source === true));
    },

    async createFolder(name, folder) {
      const imapName = imapFolderName(folder);
      await imapSession(name, async (client) => {
        await client.mailboxCreate(imapName);
        await client.mailboxSubscribe(imapName);
      });
    },

    async tail(lines = 50) {
      return tailFile(paths.logPath, lines);
    },

    async reconfigure(newOptions) {
      if (stopped) throw new Error('Dovecot was stopped');
      options = { ...options, ...newOptions };
      await writeConfig();
      await reloadDovecot(paths, ports);
    },

    async restart() {
      if (stopped) throw new Error('Dovecot was stopped');
      await stopMaster(paths);
      ports = await launchOnFreePorts(paths, instanceName, options, ports);
    },

    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await stopMaster(paths);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
  return instance;
}

function pathsIn(dir: string): Paths {
  return {
    dir,
    configPath: path.join(dir, 'dovecot.conf'),
    baseDir: path.join(dir, 'run'),
    stateDir: path.join(dir, 'state'),
    logPath: path.join(dir, 'dovecot.log'),
    certPath: path.join(dir, 'cert.pem'),
    keyPath: path.join(dir, 'key.pem'),
    usersDir: path.join(dir, 'passwd.d'),
    homesDir: path.join(dir, 'home'),
  };
}

// ---------------------------------------------------------------------------------------------
// Configuration

function renderConfig(paths: Paths, instanceName: string, ports: Ports, options: Required<DovecotOptions>): string {
  return `# Generated by test/support/dovecot.ts: a private test instance, not the system one.
instance_name = ${instanceName}
base_dir = ${paths.baseDir}
state_dir = ${paths.stateDir}
listen = ${HOST}
protocols = imap pop3
log_path = ${paths.logPath}
auth_verbose = yes
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
mail_location = maildir:~/Maildir
disable_plaintext_auth = no
auth_mechanisms = plain login
ssl = yes
ssl_cert = <${paths.certPath}
ssl_key = <${paths.keyPath}
# Sessions survive reconfigure() (a reload); stop() and restart() end them explicitly.
shutdown_clients = no
mail_max_userip_connections = ${options.maxUserIpConnections}
pop3_uidl_format = ${options.pop3UidlFormat}

# One file per user: Dovecot re-reads a changed passwd-file at most once a second, so a user
# added to a shared file right after a lookup stays unknown for up to a second.
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${paths.usersDir}/%u
}
userdb {
  driver = passwd-file
  args = username_format=%u ${paths.usersDir}/%u
}

service imap-login {
  inet_listener imap {
    address = ${HOST}
    port = ${ports.imap}
  }
  inet_listener imaps {
    address = ${HOST}
    port = ${ports.imaps}
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    address = ${HOST}
    port = ${ports.pop3}
  }
  inet_listener pop3s {
    address = ${HOST}
    port = ${ports.pop3s}
    ssl = yes
  }
}

${options.authFailureDelays ? '' : NO_AUTH_FAILURE_DELAYS}
${options.extraConfig}
`;
}

// A listener with mode 0 cannot be opened by the auth process, which then skips the penalty.
const NO_AUTH_FAILURE_DELAYS = `auth_failure_delay = 0
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
`;

function passwdLine(user: DovecotUser, owner: MailOwner): string {
  return `${user.name}:{PLAIN}${user.password}:${owner.uid}:${owner.gid}::${user.home}::\n`;
}

function assertValidCredentials(name: string, password: string): void {
  // The name is also a file name (see renderConfig).
  if (!/^[A-Za-z0-9_@+-][A-Za-z0-9._@+-]*$/.test(name)) throw new Error(`Unsupported Dovecot test user name: ${JSON.stringify(name)}`);
  // The passwd-file format is colon separated, one user a line.
  if (/[:\r\n]/.test(password) || password === '') {
    throw new Error('Dovecot test passwords must be non-empty and contain no colon or line break');
  }
}

/** The uid/gid that owns all mail; Dovecot refuses mail folders owned by anyone else. */
function mailOwner(): MailOwner {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${MAIL_OWNER}:`));
  const fields = line?.split(':') ?? [];
  const uid = Number(fields[2]);
  const gid = Number(fields[3]);
  if (!line || !Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new Error(`System user ${MAIL_OWNER} not found: is Dovecot installed (dovecot-core)?`);
  }
  return { uid, gid };
}

// ---------------------------------------------------------------------------------------------
// Certificate

interface Certificate {
  certPem: string;
  keyPem: string;
}

// Key generation costs a noticeable fraction of a second, so one certificate serves every
// instance this process starts.
let certificatePromise: Promise<Certificate> | undefined;

function selfSignedCertificate(): Promise<Certificate> {
  certificatePromise ??= generateCertificate();
  certificatePromise.catch(() => {
    certificatePromise = undefined;
  });
  return certificatePromise;
}

async function generateCertificate(): Promise<Certificate> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pr-cert-'));
  try {
    const certPath = path.join(dir, 'cert.pem');
    const keyPath = path.join(dir, 'key.pem');
    await run('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
      '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', keyPath, '-out', certPath,
    ]);
    return { certPem: await readFile(certPath, 'utf8'), keyPem: await readFile(keyPath, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Process lifecycle

/**
 * Starts the master on free ports. Ports are found by binding port 0 and released before
 * Dovecot binds them, so another process can grab one in between: then we retry on new ports.
 */
async function launchOnFreePorts(
  paths: Paths,
  instanceName: string,
  options: Required<DovecotOptions>,
  preferred?: Ports,
): Promise<Ports> {
  let lastError: unknown;
  for (let attempt = 0; attempt < PORT_RETRIES; attempt++) {
    const ports = attempt === 0 && preferred ? preferred : await freePorts();
    await writeFile(paths.configPath, renderConfig(paths, instanceName, ports, options));
    try {
      await launchMaster(paths);
      await waitForListeners(paths, ports);
      return ports;
    } catch (error) {
      lastError = error;
      await stopMaster(paths).catch(() => undefined);
      if (!String(error).includes('Address already in use')) throw error;
    }
  }
  throw lastError;
}

async function freePorts(): Promise<Ports> {
  // All four are held at once so the kernel hands out four distinct ports.
  const servers = await Promise.all([0, 1, 2, 3].map(() => listenOnEphemeralPort()));
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  const [imap, imaps, pop3, pop3s] = ports as [number, number, number, number];
  return { imap, imaps, pop3, pop3s };
}

function listenOnEphemeralPort(): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => resolve(server));
  });
}

async function launchMaster(paths: Paths): Promise<void> {
  try {
    // The master daemonizes: this returns once it has bound its listeners (or failed to).
    await run('dovecot', ['-c', paths.configPath]);
  } catch (error) {
    throw new Error(`Dovecot failed to start: ${errorText(error)}\n--- log ---\n${await tailFile(paths.logPath, 30)}`);
  }
  const pid = await readMasterPid(paths);
  if (pid !== undefined) runningMasters.set(paths.dir, pid);
}

/** Resolves once all four listeners answer: greetings on the plain ports, TCP accept on the TLS ones. */
async function waitForListeners(paths: Paths, ports: Ports): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  const checks: Array<[number, string | undefined]> = [
    [ports.imap, '* OK'],
    [ports.imaps, undefined],
    [ports.pop3, '+OK'],
    [ports.pop3s, undefined],
  ];
  for (const [port, greeting] of checks) {
    for (;;) {
      const failure = await probe(port, greeting);
      if (failure === undefined) break;
      const pid = runningMasters.get(paths.dir);
      if (pid !== undefined && !isAlive(pid)) {
        throw new Error(`Dovecot exited during start-up\n--- log ---\n${await tailFile(paths.logPath, 30)}`);
      }
      if (Date.now() > deadline) {
        throw new Error(
          `Dovecot did not answer on ${HOST}:${port} within ${START_TIMEOUT_MS} ms (${failure})\n` +
            `--- log ---\n${await tailFile(paths.logPath, 30)}`,
        );
      }
      await sleep(50);
    }
  }
}

/** Connects once; undefined when the port accepted (and sent `greeting`, if given), else why not. */
function probe(port: number, greeting: string | undefined): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port });
    let received = '';
    const finish = (failure: string | undefined): void => {
      socket.destroy();
      resolve(failure);
    };
    socket.setTimeout(2_000, () => finish('timed out'));
    socket.once('error', (error) => finish(error.message));
    socket.once('connect', () => {
      if (greeting === undefined) finish(undefined);
    });
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.includes('\n')) finish(received.startsWith(greeting ?? '') ? undefined : `unexpected greeting ${received.trim()}`);
    });
    socket.once('close', () => finish('closed before greeting'));
  });
}

async function reloadDovecot(paths: Paths, ports: Ports): Promise<void> {
  const reloadsBefore = countOccurrences(await tailFile(paths.logPath, Infinity), 'reloading configuration');
  await run('dovecot', ['-c', paths.configPath, 'reload']);
  // SIGHUP is handled asynchronously: wait for the master to log it, then for the listeners
  // (which the master hands to processes started with the new settings).
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (countOccurrences(await tailFile(paths.logPath, Infinity), 'reloading configuration') <= reloadsBefore) {
    if (Date.now() > deadline) {
      throw new Error(`Dovecot did not log the reload\n--- log ---\n${await tailFile(paths.logPath, 30)}`);
    }
    await sleep(20);
  }
  await waitForListeners(paths, ports);
}

async function stopMaster(paths: Paths): Promise<void> {
  const pid = (await readMasterPid(paths)) ?? runningMasters.get(paths.dir);
  runningMasters.delete(paths.dir);
  if (pid === undefined || !isAlive(pid)) return;
  // With shutdown_clients = no the mail processes outlive the master: end them ourselves.
  const children = childProcesses(pid);
  try {
    await stopMasterProcess(pid);
  } finally {
    for (const child of children) if (sameProcess(child)) signal(child.pid, 'SIGKILL');
  }
}

async function stopMasterProcess(pid: number): Promise<void> {
  // What `dovecot -c <conf> stop` does, minus its coarse polling (about 0.5 s slower). The
  // master then needs about 2 s: it waits for its children and sleeps 1 s after telling the
  // stragglers to close their listeners. SIGKILL is no shortcut: orphaned children linger.
  signal(pid, 'SIGTERM');
  if (await waitUntilGone(pid, STOP_TIMEOUT_MS)) return;
  signal(pid, 'SIGKILL');
  if (!(await waitUntilGone(pid, 2_000))) throw new Error(`Dovecot master ${pid} survived SIGKILL`);
}

async function readMasterPid(paths: Paths): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(path.join(paths.baseDir, 'master.pid'), 'utf8')).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

interface ProcessIdentity {
  pid: number;
  /** Start time in clock ticks since boot, so a recycled pid is not mistaken for our process. */
  startTime: string;
}

/** Direct children of `parentPid`, from /proc (Linux). */
function childProcesses(parentPid: number): ProcessIdentity[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return [];
  }
  const children: ProcessIdentity[] = [];
  for (const entry of entries) {
    const stat = procStat(Number(entry));
    if (stat && stat.ppid === parentPid) children.push({ pid: Number(entry), startTime: stat.startTime });
  }
  return children;
}

function sameProcess(identity: ProcessIdentity): boolean {
  return procStat(identity.pid)?.startTime === identity.startTime;
}

function procStat(pid: number): { ppid: number; startTime: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name (which may contain spaces): state is field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    const startTime = fields[19];
    return startTime === undefined ? undefined : { ppid, startTime };
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

async function waitUntilGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Only synchronous work is possible on exit: signal what we started and do not wait.
  process.on('exit', stopAllSync);
  // A test run interrupted by a signal skips 'exit': clean up, then die of the signal as usual
  // unless someone else handles it.
  for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(name, () => {
      stopAllSync();
      if (process.listenerCount(name) === 0) process.kill(process.pid, name);
    });
  }
}

function stopAllSync(): void {
  for (const [dir, pid] of runningMasters) {
    const children = childProcesses(pid);
    signal(pid, 'SIGTERM');
    // Mail sessions outlive the master (shutdown_clients = no).
    for (const child of children) signal(child.pid, 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
  runningMasters.clear();
}

// ---------------------------------------------------------------------------------------------
// Maildir

const FLAG_LETTERS: Record<string, string> = {
  '\\Draft': 'D',
  '\\Flagged': 'F',
  '\\Answered': 'R',
  '\\Seen': 'S',
  '\\Deleted': 'T',
};

let lastStampMicros = 0;

async function ensureMaildir(maildir: string, owner: MailOwner): Promise<void> {
  await mkdir(maildir, { recursive: true, mode: 0o700 });
  await chown(maildir, owner.uid, owner.gid);
  for (const sub of ['cur', 'new', 'tmp']) {
    const subDir = path.join(maildir, sub);
    await mkdir(subDir, { recursive: true, mode: 0o700 });
    await chown(subDir, owner.uid, owner.gid);
  }
}

/** The Maildir directory of `folder` (INBOX is the Maildir itself), created if missing. */
async function ensureFolder(user: DovecotUser, folder: string | undefined, owner: MailOwner): Promise<string> {
  const imapName = imapFolderName(folder);
  if (imapName === 'INBOX') return user.maildir;
  const folderDir = path.join(user.maildir, `.${imapName}`);
  await ensureMaildir(folderDir, owner);
  const marker = path.join(folderDir, 'maildirfolder');
  await writeFile(marker, '', { flag: 'a' });
  await chown(marker, owner.uid, owner.gid);
  return folderDir;
}

/** IMAP name of a folder: INBOX in any case is INBOX; '/' is read as Dovecot's maildir++ separator '.'. */
function imapFolderName(folder: string | undefined): string {
  if (folder === undefined || folder.toUpperCase() === 'INBOX') return 'INBOX';
  if (folder === '' || folder.startsWith('.') || folder.includes('..')) throw new Error(`Unsupported folder name ${JSON.stringify(folder)}`);
  return folder.replaceAll('/', '.');
}

/**
 * Writes one message the way an MDA does: into tmp/, then renamed into new/ (or cur/ with
 * flags) so Dovecot never sees a partial file. Name: `<time>.<unique>.<host>,S=<size>[:2,<flags>]`.
 */
async function writeMaildirMessage(folderDir: string, raw: Buffer, flags: string[], owner: MailOwner): Promise<void> {
  const base = `${uniqueBaseName()},S=${raw.length}`;
  const tmpPath = path.join(folderDir, 'tmp', base);
  const finalPath = flags.length > 0 ? path.join(folderDir, 'cur', `${base}:2,${flagLetters(flags)}`) : path.join(folderDir, 'new', base);
  const handle = await open(tmpPath, 'wx', 0o600);
  try {
    await handle.writeFile(raw);
    await handle.chown(owner.uid, owner.gid);
  } finally {
    await handle.close();
  }
  await rename(tmpPath, finalPath);
}

/**
 * Dovecot gives new mail its UIDs in the order of the time stamp in the file name, so each name
 * gets a strictly larger (seconds, microseconds) than the one before: UIDs follow delivery order
 * even for many deliveries within one millisecond.
 */
function uniqueBaseName(): string {
  lastStampMicros = Math.max(Date.now() * 1000, lastStampMicros + 1);
  const seconds = Math.floor(lastStampMicros / 1_000_000);
  const micros = lastStampMicros % 1_000_000;
  return `${seconds}.M${micros}P${process.pid}R${randomBytes(6).toString('hex')}.postroom-test`;
}

function flagLetters(flags: string[]): string {
  const letters = flags.map((flag) => {
    const letter = FLAG_LETTERS[flag];
    // Keywords would need the dovecot-keywords file; use append() for those.
    if (letter === undefined) throw new Error(`deliver() supports only system flags, not ${flag}; use append() for keywords`);
    return letter;
  });
  // Maildir requires the info letters in ASCII order, without duplicates.
  return [...new Set(letters)].sort().join('');
}

async function writeFileAtomically(filePath: string, content: string, mode: number): Promise<void> {
  const tmpPath = `${filePath}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmpPath, content, { mode });
  await rename(tmpPath, filePath);
}

// ---------------------------------------------------------------------------------------------
// IMAP helper sessions

/** 127.0.0.2 when the loopback accepts it (Linux routes all of 127/8 to lo), else the default. */
let helperAddressPromise: Promise<string | undefined> | undefined;

function usableHelperAddress(): Promise<string | undefined> {
  helperAddressPromise ??= new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(undefined));
    server.listen(0, HELPER_ADDRESS, () => server.close(() => resolve(HELPER_ADDRESS)));
  });
  return helperAddressPromise;
}

function transportFrom(localAddress: string): ImapTransport {
  return {
    connect(options, onConnect) {
      if (options.secure) throw new Error('The helper transport is cleartext only');
      return net.connect({ host: options.host, port: options.port, localAddress }, onConnect);
    },
  };
}

async function withImapSession<T>(
  target: { port: number; user: DovecotUser; helperAddress: string | undefined },
  work: (client: ImapFlow) => Promise<T>,
): Promise<T> {
  const client = new ImapFlow({
    host: HOST,
    port: target.port,
    secure: false,
    doSTARTTLS: false,
    auth: { user: target.user.name, pass: target.user.password },
    logger: false,
    disableAutoIdle: true,
    ...(target.helperAddress ? { transport: transportFrom(target.helperAddress) } : {}),
  });
  // Failures reach the caller as rejections; a late socket error must not crash the test run.
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await work(client);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

async function fetchFolder(client: ImapFlow, folder: string, withSource: boolean): Promise<DovecotMessage[]> {
  const mailbox = await client.mailboxOpen(folder, { readOnly: true });
  if (mailbox.exists === 0) return [];
  const fetched = await client.fetchAll('1:*', { uid: true, flags: true, size: true, source: withSource });
  return fetched
    .map((message) => ({
      uid: message.uid,
      // \Recent only says which session saw the message first, here the helper itself.
      flags: [...(message.flags ?? [])].filter((flag) => flag !== '\\Recent').sort(),
      size: message.size ?? 0,
      ...(withSource && message.source ? { source: message.source } : {}),
    }))
    .sort((a, b) => a.uid - b.uid);
}

// ---------------------------------------------------------------------------------------------
// Small utilities

/**
 * Runs a command to its exit. stderr goes to a file, not a pipe: the Dovecot master daemonizes
 * and inherits the pipe, so waiting for pipes to close would wait for Dovecot to stop.
 */
async function run(command: string, args: string[]): Promise<void> {
  const outputDir = await mkdtemp(path.join(os.tmpdir(), 'pr-run-'));
  const outputPath = path.join(outputDir, 'stderr');
  const output = await open(outputPath, 'w');
  try {
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(command, args, { stdio: ['ignore', output.fd, output.fd] });
      child.once('error', reject);
      child.once('exit', (code) => resolve(code));
    });
    if (exitCode !== 0) {
      const text = (await readFile(outputPath, 'utf8')).trim();
      throw new Error(`${command} ${args.join(' ')} exited with ${exitCode}${text ? `: ${text}` : ''}`);
    }
  } finally {
    await output.close();
    await rm(outputDir, { recursive: true, force: true });
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function tailFile(filePath: string, lines: number): Promise<string> {
  let text: string;
  try {
    text = await readFile(filePath, 'utf8');
  } catch {
    return '';
  }
  const all = text.split('\n');
  if (all.at(-1) === '') all.pop();
  return (Number.isFinite(lines) ? all.slice(-lines) : all).join('\n');
}

function countOccurrences(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

function toBuffer(raw: Buffer | string): Buffer {
  return typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
}

async function forEachConcurrently<T>(items: Iterable<T>, limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const iterator = items[Symbol.iterator]();
  const worker = async (): Promise<void> => {
    for (let next = iterator.next(); !next.done; next = iterator.next()) await work(next.value);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
