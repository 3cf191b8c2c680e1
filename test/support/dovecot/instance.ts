/** The object a test holds: one running private Dovecot, its users, and the helpers to fill and inspect it. */
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ImapFlow } from 'imapflow';
import { selfSignedCertificate } from './certificate.ts';
import { tailFile } from './commands.ts';
import { renderConfig } from './config.ts';
import { HOST, type Paths, type Ports, pathsIn } from './layout.ts';
import { ensureFolder, ensureMaildir, forEachConcurrently, imapFolderName, toBuffer, writeMaildirMessage } from './maildir.ts';
import { DEFAULT_OPTIONS, type DeliverOptions, type Dovecot, type DovecotMessage, type DovecotOptions, type DovecotUser } from './options.ts';
import { installExitHook, launchOnFreePorts, reloadDovecot, stopMaster } from './process.ts';
import { fetchFolder, usableHelperAddress, withImapSession } from './sessions.ts';
import { assertValidCredentials, type MailOwner, mailOwner, passwdLine, writeFileAtomically } from './users.ts';

/** Writes many messages at once, but not so many that the temp dir runs out of file handles. */
const DELIVER_CONCURRENCY = 32;

export async function startDovecot(options: DovecotOptions = {}): Promise<Dovecot> {
  installExitHook();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pr-dovecot-'));
  try {
    return await DovecotInstance.create(dir, { ...DEFAULT_OPTIONS, ...options });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

class DovecotInstance implements Dovecot {
  readonly host = HOST;
  readonly configPath: string;
  readonly logPath: string;
  readonly caPath: string;
  private readonly users = new Map<string, DovecotUser>();
  private stopped = false;

  private constructor(
    readonly dir: string,
    readonly caPem: string,
    private readonly paths: Paths,
    private readonly instanceName: string,
    private readonly owner: MailOwner,
    private readonly helperAddress: string | undefined,
    private currentOptions: Required<DovecotOptions>,
    private ports: Ports,
  ) {
    this.configPath = paths.configPath;
    this.logPath = paths.logPath;
    this.caPath = paths.certPath;
  }

  static async create(dir: string, options: Required<DovecotOptions>): Promise<DovecotInstance> {
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
    const helperAddress = await usableHelperAddress();
    const ports = await launchOnFreePorts(paths, instanceName, options);
    return new DovecotInstance(dir, certificate.certPem, paths, instanceName, owner, helperAddress, options, ports);
  }

  get imapPort(): number {
    return this.ports.imap;
  }
  get imapsPort(): number {
    return this.ports.imaps;
  }
  get pop3Port(): number {
    return this.ports.pop3;
  }
  get pop3sPort(): number {
    return this.ports.pop3s;
  }
  get options(): Readonly<Required<DovecotOptions>> {
    return this.currentOptions;
  }

  async addUser(name: string, password: string): Promise<DovecotUser> {
    assertValidCredentials(name, password);
    if (this.users.has(name)) throw new Error(`Dovecot test user ${name} already exists`);
    const home = path.join(this.paths.homesDir, name);
    const user: DovecotUser = { name, password, home, maildir: path.join(home, 'Maildir') };
    await mkdir(home, { mode: 0o700 });
    await chown(home, this.owner.uid, this.owner.gid);
    await ensureMaildir(user.maildir, this.owner);
    // Renamed into place so the auth process never reads a half-written file.
    await writeFileAtomically(path.join(this.paths.usersDir, name), passwdLine(user, this.owner), 0o644);
    this.users.set(name, user);
    return user;
  }

  async setPassword(name: string, password: string): Promise<DovecotUser> {
    assertValidCredentials(name, password);
    const user = { ...this.user(name), password };
    await writeFileAtomically(path.join(this.paths.usersDir, name), passwdLine(user, this.owner), 0o644);
    this.users.set(name, user);
    return user;
  }

  async deliver(name: string, raw: Buffer | string, options: DeliverOptions = {}): Promise<void> {
    const folderDir = await ensureFolder(this.user(name), options.folder, this.owner);
    await writeMaildirMessage(folderDir, toBuffer(raw), options.flags ?? [], this.owner);
  }

  async deliverMany(name: string, raws: Iterable<Buffer | string>, options: DeliverOptions = {}): Promise<void> {
    const folderDir = await ensureFolder(this.user(name), options.folder, this.owner);
    const flags = options.flags ?? [];
    await forEachConcurrently(raws, DELIVER_CONCURRENCY, (raw) => writeMaildirMessage(folderDir, toBuffer(raw), flags, this.owner));
  }

  async append(name: string, raw: Buffer | string, options: DeliverOptions = {}): Promise<void> {
    const folder = imapFolderName(options.folder);
    await this.imapSession(name, async (client) => {
      const result = await client.append(folder, toBuffer(raw), options.flags ?? []);
      if (result === false) throw new Error(`IMAP APPEND to ${folder} for ${name} failed`);
    });
  }

  async listMessages(name: string, options: { folder?: string; source?: boolean } = {}): Promise<DovecotMessage[]> {
    const folder = imapFolderName(options.folder);
    return this.imapSession(name, (client) => fetchFolder(client, folder, options.source === true));
  }

  async createFolder(name: string, folder: string): Promise<void> {
    const imapName = imapFolderName(folder);
    await this.imapSession(name, async (client) => {
      await client.mailboxCreate(imapName);
      await client.mailboxSubscribe(imapName);
    });
  }

  async tail(lines = 50): Promise<string> {
    return tailFile(this.paths.logPath, lines);
  }

  async reconfigure(options: DovecotOptions): Promise<void> {
    if (this.stopped) throw new Error('Dovecot was stopped');
    this.currentOptions = { ...this.currentOptions, ...options };
    await writeFile(this.paths.configPath, renderConfig(this.paths, this.instanceName, this.ports, this.currentOptions));
    await reloadDovecot(this.paths, this.ports);
  }

  async restart(): Promise<void> {
    if (this.stopped) throw new Error('Dovecot was stopped');
    await stopMaster(this.paths);
    this.ports = await launchOnFreePorts(this.paths, this.instanceName, this.currentOptions, this.ports);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      await stopMaster(this.paths);
    } finally {
      await rm(this.dir, { recursive: true, force: true });
    }
  }

  private user(name: string): DovecotUser {
    const user = this.users.get(name);
    if (!user) throw new Error(`Dovecot test user ${name} does not exist; call addUser first`);
    return user;
  }

  private imapSession<T>(name: string, work: (client: ImapFlow) => Promise<T>): Promise<T> {
    return withImapSession({ port: this.ports.imap, user: this.user(name), helperAddress: this.helperAddress }, work);
  }
}
