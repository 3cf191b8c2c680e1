import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { ImapFlow } from 'imapflow';
import type { Dovecot } from './dovecot.ts';
import { startDovecot } from './dovecot.ts';

const PASSWORD = 'secret-1';

function email(subject: string): string {
  return `From: sender@example.com\r\nTo: alice@example.com\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@example.com>\r\n\r\nBody of ${subject}\r\n`;
}

function imapClient(dovecot: Dovecot, options: { user: string; pass?: string; tlsMode: 'implicit' | 'starttls' | 'plain' }): ImapFlow {
  const client = new ImapFlow({
    host: dovecot.host,
    port: options.tlsMode === 'implicit' ? dovecot.imapsPort : dovecot.imapPort,
    secure: options.tlsMode === 'implicit',
    doSTARTTLS: options.tlsMode === 'starttls',
    tls: { ca: [dovecot.caPem], rejectUnauthorized: true },
    auth: { user: options.user, pass: options.pass ?? PASSWORD },
    logger: false,
    disableAutoIdle: true,
  });
  // A server-side close must not become an uncaught 'error' event.
  client.on('error', () => undefined);
  return client;
}

/** Minimal line-at-a-time client for POP3's single-line replies. */
class LineClient {
  private buffered = '';
  private readonly waiting: Array<(line: string) => void> = [];
  private readonly lines: string[] = [];

  constructor(readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buffered += chunk;
      for (let end = this.buffered.indexOf('\r\n'); end !== -1; end = this.buffered.indexOf('\r\n')) {
        const line = this.buffered.slice(0, end);
        this.buffered = this.buffered.slice(end + 2);
        const waiter = this.waiting.shift();
        if (waiter) waiter(line);
        else this.lines.push(line);
      }
    });
  }

  nextLine(timeoutMs = 5_000): Promise<string> {
    const ready = this.lines.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no reply within timeout')), timeoutMs);
      this.waiting.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
  }

  async command(line: string): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.nextLine();
  }
}

async function pop3Stat(socket: net.Socket, user: string): Promise<string> {
  const client = new LineClient(socket);
  try {
    assert.match(await client.nextLine(), /^\+OK/);
    assert.match(await client.command(`USER ${user}`), /^\+OK/);
    assert.match(await client.command(`PASS ${PASSWORD}`), /^\+OK/);
    const stat = await client.command('STAT');
    assert.match(await client.command('QUIT'), /^\+OK/);
    return stat;
  } finally {
    socket.destroy();
  }
}

function connectPlain(port: number): net.Socket {
  return net.connect({ host: '127.0.0.1', port });
}

function connectTls(port: number, ca: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: [ca], rejectUnauthorized: true }, () => resolve(socket));
    socket.once('error', reject);
  });
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function masterPid(dovecot: Dovecot): number {
  return Number(readFileSync(`${dovecot.dir}/run/master.pid`, 'utf8').trim());
}

// The instances are independent, so their tests run side by side: a Dovecot stop alone takes
// about 2 s (see stopMasterProcess in dovecot.ts).
describe('Dovecot test harness', { concurrency: true }, () => {
  let dovecot: Dovecot;
  let spare: Dovecot;
  let restartable: Dovecot;

  before(async () => {
    // Three at once, as parallel test files would.
    [dovecot, spare, restartable] = await Promise.all([startDovecot(), startDovecot(), startDovecot()]);
    await dovecot.addUser('alice', PASSWORD);
  });

  after(async () => {
    await Promise.all([dovecot?.stop(), spare?.stop(), restartable?.stop()]);
  });

  it('gives each instance its own ports and directory', () => {
    const ports = [dovecot, spare, restartable].flatMap((d) => [d.imapPort, d.imapsPort, d.pop3Port, d.pop3sPort]);
    assert.equal(new Set(ports).size, 12);
    assert.equal(new Set([dovecot.dir, spare.dir, restartable.dir]).size, 3);
    assert.match(dovecot.caPem, /BEGIN CERTIFICATE/);
  });

  describe('mail and logins (one instance, in order)', { concurrency: 1 }, () => {
    it('lists mail delivered by Maildir and by APPEND, with flags and sources', async () => {
      await dovecot.deliver('alice', email('one'));
      await dovecot.deliver('alice', email('two'), { flags: ['\\Seen'] });
      await dovecot.deliverMany('alice', [email('three')]);
      await dovecot.append('alice', email('four'), { flags: ['\\Flagged'] });

      const messages = await dovecot.listMessages('alice', { source: true });
      assert.equal(messages.length, 4);
      assert.deepEqual(
        messages.map((message) => message.flags),
        [[], ['\\Seen'], [], ['\\Flagged']],
      );
      assert.deepEqual(
        messages.map((message) => message.uid),
        [1, 2, 3, 4],
      );
      assert.equal(messages[3]?.source?.toString(), email('four'));
      assert.equal(messages[0]?.size, Buffer.byteLength(email('one')));
    });

    it('delivers into other folders and creates folders over IMAP', async () => {
      await dovecot.deliver('alice', email('archived'), { folder: 'Archive', flags: ['\\Seen', '\\Answered'] });
      await dovecot.createFolder('alice', 'Projects');
      await dovecot.append('alice', email('project'), { folder: 'Projects' });

      const archived = await dovecot.listMessages('alice', { folder: 'Archive' });
      assert.deepEqual(
        archived.map((message) => message.flags),
        [['\\Answered', '\\Seen']],
      );
      assert.equal((await dovecot.listMessages('alice', { folder: 'Projects' })).length, 1);
      assert.equal((await dovecot.listMessages('alice', { folder: 'INBOX' })).length, 4);
    });

    it('logs in over IMAPS and STARTTLS, trusting only caPem', async () => {
      for (const tlsMode of ['implicit', 'starttls'] as const) {
        const client = imapClient(dovecot, { user: 'alice', tlsMode });
        await client.connect();
        try {
          assert.ok(client.secureConnection || tlsMode === 'starttls');
          const mailbox = await client.mailboxOpen('INBOX', { readOnly: true });
          assert.equal(mailbox.exists, 4);
        } finally {
          await client.logout();
        }
      }
    });

    it('serves POP3 in plain text and over implicit TLS', async () => {
      const size = (await dovecot.listMessages('alice')).reduce((total, message) => total + message.size, 0);
      assert.equal(await pop3Stat(connectPlain(dovecot.pop3Port), 'alice'), `+OK 4 ${size}`);
      assert.equal(await pop3Stat(await connectTls(dovecot.pop3sPort, dovecot.caPem), 'alice'), `+OK 4 ${size}`);
    });

    it('accepts a user added after other logins at once', async () => {
      // Dovecot re-reads a changed passwd-file at most once a second; the harness avoids that.
      await dovecot.addUser('dave', PASSWORD);
      assert.deepEqual(await dovecot.listMessages('dave'), []);
    });

    it('refuses a bad password or an unknown user quickly (failure delays are off by default)', async () => {
      for (const user of ['alice', 'alice', 'nobody']) {
        const started = Date.now();
        const client = imapClient(dovecot, { user, pass: 'wrong', tlsMode: 'plain' });
        await assert.rejects(client.connect(), (error: { authenticationFailed?: boolean; serverResponseCode?: string }) => {
          assert.equal(error.authenticationFailed, true);
          assert.equal(error.serverResponseCode, 'AUTHENTICATIONFAILED');
          return true;
        });
        assert.ok(Date.now() - started < 1_900, `login as ${user} took ${Date.now() - started} ms`);
      }
    });

    it('enforces mail_max_userip_connections and changes it live with reconfigure()', async () => {
      await dovecot.reconfigure({ maxUserIpConnections: 1 });
      const first = imapClient(dovecot, { user: 'alice', tlsMode: 'plain' });
      const second = imapClient(dovecot, { user: 'alice', tlsMode: 'plain' });
      const third = imapClient(dovecot, { user: 'alice', tlsMode: 'plain' });
      await first.connect();
      try {
        await assert.rejects(second.connect(), (error: { response?: string; serverResponseCode?: string }) => {
          assert.match(error.response ?? '', /^\S+ NO \[LIMIT\] .*mail_max_userip_connections=1/);
          assert.equal(error.serverResponseCode, 'LIMIT');
          return true;
        });
        // The limit is per protocol, and the helper's own sessions come from another address.
        assert.match(await pop3Stat(connectPlain(dovecot.pop3Port), 'alice'), /^\+OK 4 /);
        assert.equal((await dovecot.listMessages('alice')).length, 4);

        await dovecot.reconfigure({ maxUserIpConnections: 2 });
        const again = imapClient(dovecot, { user: 'alice', tlsMode: 'plain' });
        await again.connect();
        await assert.rejects(third.connect(), /Command failed/);
        // Sessions opened before the reload survive it.
        await first.noop();
        await again.logout();
      } finally {
        await first.logout();
        await dovecot.reconfigure({ maxUserIpConnections: 50 });
      }
    });

    it('shows the log tail', async () => {
      const tail = await dovecot.tail(5);
      assert.equal(tail.split('\n').length, 5);
      assert.match(await dovecot.tail(200), /master: Info: Dovecot v2\.3/);
    });
  });

  it('restart keeps the mail and the ports', async () => {
    await restartable.addUser('bob', PASSWORD);
    await restartable.deliver('bob', email('kept'));
    const ports = [restartable.imapPort, restartable.imapsPort, restartable.pop3Port, restartable.pop3sPort];
    const pidBefore = masterPid(restartable);
    await restartable.restart();
    assert.notEqual(masterPid(restartable), pidBefore);
    assert.deepEqual([restartable.imapPort, restartable.imapsPort, restartable.pop3Port, restartable.pop3sPort], ports);
    assert.equal((await restartable.listMessages('bob')).length, 1);
  });

  it('stop ends the master and open sessions, closes the ports and removes the directory', async () => {
    await spare.addUser('carol', PASSWORD);
    const session = imapClient(spare, { user: 'carol', tlsMode: 'plain' });
    await session.connect();
    const sessionClosed = new Promise<void>((resolve) => session.once('close', () => resolve()));
    const pid = masterPid(spare);
    const ports = [spare.imapPort, spare.imapsPort, spare.pop3Port, spare.pop3sPort];

    await spare.stop();

    assert.equal(isAlive(pid), false, `master ${pid} still running`);
    for (const port of ports) assert.equal(await portAccepts(port), false, `port ${port} still open`);
    assert.equal(existsSync(spare.dir), false);
    await sessionClosed;
    await spare.stop(); // idempotent
  });
});
