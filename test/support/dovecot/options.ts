/** What a test can ask of its private Dovecot, and what it gets back. */
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
   * Changes a user's password (as an admin would): logins with the old one are refused from the
   * next passwd-file read on (Dovecot re-reads a changed file at most once a second).
   */
  setPassword(name: string, password: string): Promise<DovecotUser>;
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

export const DEFAULT_OPTIONS: Required<DovecotOptions> = {
  maxUserIpConnections: 50,
  pop3UidlFormat: '%08Xu%08Xv',
  authFailureDelays: false,
  extraConfig: '',
};
