/**
 * A private, throwaway Dovecot (IMAP + POP3, plain and implicit TLS) for tests and benchmarks.
 *
 * Each instance lives in its own temp dir (config, certificate, mail, logs, runtime sockets),
 * listens on free loopback ports and is torn down by `stop()`. Several instances can run at once.
 *
 * Helper IMAP sessions (append, listMessages, createFolder) connect from 127.0.0.2 when the
 * machine allows it, so they are not counted by `mail_max_userip_connections` against the
 * client under test, which connects from 127.0.0.1.
 *
 * The pieces live in test/support/dovecot/: options.ts (what a test asks for), instance.ts (the
 * object a test holds), config.ts (dovecot.conf), process.ts (the daemon's life), maildir.ts
 * (writing mail), sessions.ts (helper IMAP sessions), users.ts, certificate.ts.
 */
export { startDovecot } from './dovecot/instance.ts';
export type { DeliverOptions, Dovecot, DovecotMessage, DovecotOptions, DovecotUser } from './dovecot/options.ts';
