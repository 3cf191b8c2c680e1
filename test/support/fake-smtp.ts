/**
 * A real SMTP server for the email destination's tests (the `smtp-server` package, what
 * nodemailer's own tests use), on loopback with STARTTLS (openssl certificate). It keeps every
 * message it accepted, byte for byte, and can refuse the next messages with chosen replies.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerAuthentication } from 'smtp-server';
import { generateTestCertificate } from './fake-certificate.ts';

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: Buffer;
  /** Set when the server refused the message after reading it (the reply it gave). */
  refusedWith?: string;
  user?: string;
}

export interface SmtpReply {
  code: number;
  /** The reply text, enhanced status code first ("4.7.1 Ratelimit exceeded"). */
  text: string;
}

export interface FakeSmtp {
  port: number;
  caPem: string;
  /** Every DATA the server read, accepted or refused. */
  received: ReceivedMail[];
  accepted(): ReceivedMail[];
  /** Connections opened so far. */
  connections: number;
  /** Answer the next `times` messages (after reading them) with this reply. */
  refuseNext(reply: SmtpReply, times?: number): void;
  /** Password users: name → password. */
  users: Map<string, string>;
  /** XOAUTH2: decides whether a bearer token is good for the user. */
  acceptToken: (user: string, token: string) => boolean;
  /** XOAUTH2 attempts, in order, with the server's verdict. */
  oauthAttempts: Array<{ user: string; ok: boolean }>;
  close(): Promise<void>;
}

export async function startFakeSmtp(): Promise<FakeSmtp> {
  const certificate = await generateTestCertificate();
  const refusals: Array<{ reply: SmtpReply; times: number }> = [];
  const fake: FakeSmtp = {
    port: 0,
    caPem: certificate.certPem,
    received: [],
    accepted: () => fake.received.filter((mail) => !mail.refusedWith),
    connections: 0,
    refuseNext(reply, times = 1) {
      refusals.push({ reply, times });
    },
    users: new Map(),
    acceptToken: () => false,
    oauthAttempts: [],
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = new SMTPServer({
    key: certificate.keyPem,
    cert: certificate.certPem,
    authMethods: ['PLAIN', 'LOGIN', 'XOAUTH2'],
    logger: false,
    onConnect(_session, callback) {
      fake.connections += 1;
      callback();
    },
    onAuth(auth: SMTPServerAuthentication, _session, callback) {
      if (auth.method === 'XOAUTH2') {
        const ok = fake.acceptToken(auth.username ?? '', auth.accessToken ?? '');
        fake.oauthAttempts.push({ user: auth.username ?? '', ok });
        // Google's and Microsoft's answer to a bad token: a 334 challenge with a JSON error, then 535.
        return ok
          ? callback(null, { user: auth.username })
          : callback(null, { data: { status: '401', schemes: 'bearer', scope: 'https://outlook.office365.com/.default' } });
      }
      if (fake.users.get(auth.username ?? '') === auth.password) return callback(null, { user: auth.username });
      return callback(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const mail: ReceivedMail = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          raw: Buffer.concat(chunks),
          ...(typeof session.user === 'string' ? { user: session.user } : {}),
        };
        fake.received.push(mail);
        const refusal = refusals.find((candidate) => candidate.times > 0);
        if (refusal) {
          refusal.times -= 1;
          mail.refusedWith = `${refusal.reply.code} ${refusal.reply.text}`;
          return callback(Object.assign(new Error(refusal.reply.text), { responseCode: refusal.reply.code }));
        }
        callback(null, 'Ok: queued');
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  fake.port = (server.server.address() as AddressInfo).port;
  return fake;
}
