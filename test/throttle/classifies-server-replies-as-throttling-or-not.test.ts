import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classify, type ThrottleSignal, type WaitSource } from '../../src/throttle/classify.ts';
import { signalFromLine } from '../../src/throttle/line.ts';
import { compileThrottlePatterns } from '../../src/throttle/patterns.ts';

/** Default patterns, no fixed latency: waits come from the server or from backoff. */
const policy = { patterns: compileThrottlePatterns() };
/** First throttle in a row, mid-range jitter: backoff is 2 s × (0.5 + 0.5 × 0.5) = 1.5 s. */
const state = { consecutive: 0, now: Date.parse('2025-06-01T12:00:00Z'), random: () => 0.5 };
const BACKOFF = 1_500;
/** Cautious login retry: 30 s base, equal jitter at 0.5 → 22.5 s. */
const CAUTIOUS = 22_500;

interface Row {
  /** Where the line comes from. */
  seen: string;
  signal: ThrottleSignal;
  throttled: boolean;
  waitMs?: number;
  waitSource?: WaitSource;
  slowDownOnly?: boolean;
}

const imap = (text: string, extra: Partial<Extract<ThrottleSignal, { kind: 'reply' }>> = {}): ThrottleSignal => ({
  kind: 'reply',
  protocol: 'imap',
  text,
  ...extra,
});
const pop3 = (text: string): ThrottleSignal => ({ kind: 'reply', protocol: 'pop3', text });
const smtp = (text: string): ThrottleSignal => ({ kind: 'reply', protocol: 'smtp', text });
const login = (protocol: 'imap' | 'pop3' | 'smtp', text: string, workedBefore: boolean): ThrottleSignal => ({
  kind: 'login-failed',
  protocol,
  text,
  workedBefore,
});
const http = (status: number, body: string, headers: Record<string, string> = {}): ThrottleSignal => ({ kind: 'http', status, headers, body });
const graphBody = (code: string, message: string): string =>
  JSON.stringify({ error: { code, message, innerError: { date: '2025-06-01T12:00:00', 'request-id': 'r1' } } });

const TABLE: Row[] = [
  // Exchange Online / Office 365, IMAP and POP3
  {
    seen: 'Exchange IMAP throttled FETCH (NO)',
    signal: imap('A1 NO Request is throttled. Suggested Backoff Time: 2000 milliseconds'),
    throttled: true,
    waitMs: 2_000,
    waitSource: 'server-text',
  },
  {
    seen: 'Exchange IMAP throttled (BAD, imap_tools #135 / imapsync FAQ)',
    signal: imap('A7 BAD Request is throttled. Suggested Backoff Time: 299910 milliseconds'),
    throttled: true,
    waitMs: 299_910,
    waitSource: 'server-text',
  },
  { seen: 'Exchange IMAP BYE after a throttle', signal: imap('* BYE Connection closed. 14'), throttled: true, waitMs: BACKOFF, waitSource: 'backoff' },
  { seen: 'Exchange IMAP (imapfilter #146)', signal: imap('10EA NO Server Unavailable. 15'), throttled: true, waitMs: BACKOFF, waitSource: 'backoff' },
  { seen: 'Exchange POP3', signal: pop3('-ERR Server Unavailable. 21'), throttled: true, waitMs: BACKOFF, waitSource: 'backoff' },
  { seen: 'Exchange IMAP, ambiguous (not throttling by default)', signal: imap('A3 BAD User is authenticated but not connected.'), throttled: false },
  { seen: 'Exchange IMAP syntax error', signal: imap('A5 BAD Command Argument Error. 11'), throttled: false },
  {
    seen: 'Exchange POP3 login refused on an account that worked minutes ago',
    signal: login('pop3', '-ERR Logon failure: unknown user name or bad password.', true),
    throttled: true,
    waitMs: CAUTIOUS,
    waitSource: 'backoff',
  },
  {
    seen: 'Exchange POP3 login refused on a new account',
    signal: login('pop3', '-ERR Logon failure: unknown user name or bad password.', false),
    throttled: false,
  },
  {
    seen: 'Exchange IMAP AUTHENTICATE refused, worked before (MailKit #849)',
    signal: login('imap', 'A00000001 NO AUTHENTICATE failed.', true),
    throttled: true,
    waitMs: CAUTIOUS,
    waitSource: 'backoff',
  },
  { seen: 'Exchange IMAP LOGIN refused, never worked', signal: login('imap', 'A1 NO LOGIN failed.', false), throttled: false },

  // Gmail
  {
    seen: 'Gmail slow-down on an OK reply (MailKit #1396)',
    signal: imap('A00000002 OK Success [THROTTLED]', { ok: true }),
    throttled: true,
    waitMs: BACKOFF,
    waitSource: 'backoff',
    slowDownOnly: true,
  },
  {
    seen: 'Gmail simultaneous connections, reported by imapflow as a login failure',
    signal: login('imap', 'A1 NO [ALERT] Too many simultaneous connections. (Failure)', false),
    throttled: true,
    waitMs: BACKOFF,
    waitSource: 'backoff',
  },
  {
    seen: 'Gmail daily bandwidth cap',
    signal: imap('A9 NO [OVERQUOTA] Account exceeded command or bandwidth limits. (Failure)'),
    throttled: true,
    waitMs: BACKOFF,
    waitSource: 'backoff',
  },
  { seen: 'Gmail bad password', signal: login('imap', 'A1 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)', true), throttled: false },
  {
    seen: 'Gmail app password required',
    signal: login('imap', 'A1 NO [ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)', true),
    throttled: false,
  },
  { seen: 'Gmail POP3 bad password', signal: login('pop3', '-ERR [AUTH] Username and password not accepted.', true), throttled: false },
  {
    seen: 'Gmail POP3 disabled',
    signal: pop3('-ERR [SYS/PERM] Your account is not enabled for POP access. Please visit your Gmail settings page and enable your account for POP access.'),
    throttled: false,
  },
  {
    seen: 'Gmail POP3 temporary problem',
    signal: pop3('-ERR [SYS/TEMP] Temporary system problem. Please try again later.'),
    throttled: true,
    waitMs: BACKOFF,
    waitSource: 'backoff',
  },

  // Yahoo (imapflow #75; Dovecot imapc notes "Yahoo sends * BYE + NO [LIMIT] UID FETCH Rate limit hit.")
  { seen: 'Yahoo rate limit', signal: imap('3 NO [LIMIT] CAPABILITY Rate limit hit.'), throttled: true, waitMs: BACKOFF, waitSource: 'backoff' },
  {
    seen: 'Yahoo BYE in the middle of a FETCH',
    signal: imap('* BYE IMAP4rev1 Server logging out', { command: 'UID FETCH' }),
    throttled: true,
    waitMs: BACKOFF,
    waitSource: 'backoff',
  },
  { seen: 'any server, BYE answering our own LOGOUT', signal: imap('* BYE IMAP4rev1 Server logging out', { command: 'LOGOUT' }), throttled: false },
  {
    seen: 'Yahoo server error (imap-backup #218)',
    signal: imap('A12 NO UID FETCH Server error - Please try again later'),
    throttled: true,
    waitMs: BACKOFF,
    waitSource: 'backoff',
  },

  // Dovecot 2.3 / 2.4 (the server in our tests)
  {
    seen: 'Dovecot 2.3 connection limit',
    signal: login('imap', 'A1 NO [UNAVAILABLE] Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)', false),
    throttled: true,
    waitMs: BACKOFF,
    waitSource: 'backoff',
  },
  {
    seen: 'Dovecot 2.4 connection limit',
    signal: login('imap', 'A1 NO [LIMIT] Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)', false),
    throttled: true,
    waitMs: BACKOFF,
    waitSource: 'backoff',
  },
  {
    seen: 'Dovecot auth backend down',
    signal: login('imap', 'A1 NO [UNAVAILABLE] Temporary authentication failure. [mail:2025-06-01 12:00:00]', true),
    throttled: true,
    waitMs: BACKOFF,
    waitSource: 'backoff',
  },
  {
    seen: 'Dovecot POP3 session lock',
    signal: pop3('-ERR [IN-USE] Mailbox is locked by another POP3 session.'),
    throttled: true,
    waitMs: BACKOFF,
    waitSource: 'backoff',
  },
  {
    seen: 'Dovecot POP3 lock failure',
    signal: pop3('-ERR [SYS/TEMP] Failed to create POP3 session lock.'),
    throttled: true,
    waitMs: BACKOFF,
    waitSource: 'backoff',
  },
  { seen: 'RFC 5530 INUSE', signal: imap('A4 NO [INUSE] Mailbox in use'), throttled: true, waitMs: BACKOFF, waitSource: 'backoff' },
  {
    seen: 'RFC 2449 LOGIN-DELAY',
    signal: login('pop3', '-ERR [LOGIN-DELAY] Minimum time between logins not reached', true),
    throttled: true,
    waitMs: BACKOFF,
    waitSource: 'backoff',
  },
  { seen: 'Dovecot bad password', signal: login('imap', 'A1 NO [AUTHENTICATIONFAILED] Authentication failed.', true), throttled: false },
  { seen: 'Dovecot POP3 bad password', signal: login('pop3', '-ERR [AUTH] Authentication failed.', false), throttled: false },
  {
    seen: 'Dovecot plaintext login refused without TLS',
    signal: login('imap', 'A1 NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.', true),
    throttled: false,
  },
  { seen: 'Dovecot missing folder', signal: imap("A3 NO [NONEXISTENT] Mailbox doesn't exist: Archive"), throttled: false },
  { seen: 'Dovecot storage quota', signal: imap('A8 NO [OVERQUOTA] Quota exceeded (mailbox for user is full)'), throttled: false },
  { seen: 'Dovecot syntax error', signal: imap('A2 BAD Error in IMAP command UID FETCH: Invalid uidset'), throttled: false },
  {
    seen: 'Dovecot BYE when another client deleted or renamed the selected folder',
    signal: imap('* BYE FETCH failed: Mailbox was deleted under us'),
    throttled: false,
  },
  { seen: 'Dovecot BYE after too many malformed commands (a client bug)', signal: imap('* BYE Too many invalid IMAP commands.'), throttled: false },
  {
    seen: 'Dovecot internal error',
    signal: imap('A6 NO [SERVERBUG] Internal error occurred. Refer to server log for more information. [2025-06-01 12:00:00]'),
    throttled: false,
  },
  {
    seen: 'Dovecot shutting down',
    signal: { kind: 'socket', event: 'bye', text: '* BYE Server shutting down.' },
    throttled: true,
    waitMs: BACKOFF,
    waitSource: 'backoff',
  },

  // Cyrus and Courier
  {
    seen: 'Cyrus imapd maxlogins_per_user',
    signal: login('imap', 'A1 NO Too many open connections (3 of 3 for alice)', false),
    throttled: true,
    waitMs: BACKOFF,
    waitSource: 'backoff',
  },
  {
    seen: 'Cyrus pop3d maxlogins_per_user',
    signal: pop3('-ERR Too many open connections (3 of 3 for alice)'),
    throttled: true,
    waitMs: BACKOFF,
    waitSource: 'backoff',
  },
  {
    seen: 'Courier couriertcpd MAXPERIP closes before the greeting',
    signal: { kind: 'socket', event: 'closed-mid-command', text: 'Connection closed before the server greeting' },
    throttled: true,
    waitMs: BACKOFF,
    waitSource: 'backoff',
  },

  // Outgoing SMTP
  { seen: 'Gmail SMTP', signal: smtp('421 4.7.0 Try again later, closing connection. (EHLO)'), throttled: true, waitMs: BACKOFF, waitSource: 'backoff' },
  { seen: 'SMTP server busy', signal: smtp('421 4.4.5 Server busy, try again later.'), throttled: true, waitMs: BACKOFF, waitSource: 'backoff' },
  {
    seen: 'Gmail SMTP recipient rate',
    signal: smtp('450 4.2.1 The user you are trying to contact is receiving mail too quickly. Please resend your message at a later time.'),
    throttled: true,
    waitMs: BACKOFF,
    waitSource: 'backoff',
  },
  {
    seen: 'Gmail SMTP IP rate limit',
    signal: smtp(
      '421-4.7.28 [203.0.113.1] Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited.',
    ),
    throttled: true,
    waitMs: BACKOFF,
    waitSource: 'backoff',
  },
  {
    seen: 'Gmail SMTP login attempts',
    signal: smtp('454 4.7.0 Too many login attempts, please try again later.'),
    throttled: true,
    waitMs: BACKOFF,
    waitSource: 'backoff',
  },
  {
    seen: 'Gmail SMTP daily quota (a 5xx that is a throttle)',
    signal: smtp('550 5.4.5 Daily sending quota exceeded.'),
    throttled: true,
    waitMs: BACKOFF,
    waitSource: 'backoff',
  },
  {
    seen: 'Office 365 SMTP concurrency',
    signal: smtp('432 4.3.2 Concurrent connections limit exceeded. Visit https://aka.ms/concurrent_sending for more information.'),
    throttled: true,
    waitMs: BACKOFF,
    waitSource: 'backoff',
  },
  {
    seen: 'Office 365 SMTP submission quota',
    signal: smtp(
      '554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception with message Cannot submit message.',
    ),
    throttled: true,
    waitMs: BACKOFF,
    waitSource: 'backoff',
  },
  {
    seen: 'Office 365 SMTP server busy',
    signal: smtp('451 4.7.500 Server busy. Please try again later from [203.0.113.1]. (AS761)'),
    throttled: true,
    waitMs: BACKOFF,
    waitSource: 'backoff',
  },
  { seen: 'rspamd rate limit', signal: smtp('451 4.7.1 Ratelimit "user" exceeded'), throttled: true, waitMs: BACKOFF, waitSource: 'backoff' },
  {
    seen: 'Postfix shutting down (421 without rate words)',
    signal: smtp('421 4.3.2 Service shutting down and closing transmission channel'),
    throttled: true,
    waitMs: BACKOFF,
    waitSource: 'backoff',
  },
  { seen: 'Gmail SMTP bad password', signal: login('smtp', '535 5.7.8 Username and Password not accepted.', true), throttled: false },
  {
    seen: 'Office 365 SMTP AUTH disabled',
    signal: login('smtp', '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.', true),
    throttled: false,
  },
  { seen: 'recipient mailbox full', signal: smtp('552 5.2.2 The email account that you tried to reach is over quota.'), throttled: false },
  { seen: 'too many recipients in one message', signal: smtp('452 4.5.3 Too many recipients'), throttled: false },
  { seen: 'STARTTLS required', signal: smtp('530 5.7.0 Must issue a STARTTLS command first.'), throttled: false },
  { seen: 'accepted', signal: smtp('250 2.0.0 OK queued as 4F3A2'), throttled: false },

  // Microsoft Graph
  {
    seen: 'Graph mailbox concurrency',
    signal: http(429, graphBody('ApplicationThrottled', 'Application is over its MailboxConcurrency limit.'), { 'Retry-After': '10' }),
    throttled: true,
    waitMs: 10_000,
    waitSource: 'retry-after',
  },
  {
    seen: 'Graph too many requests, fractional Retry-After',
    signal: http(429, graphBody('TooManyRequests', 'Too many requests'), { 'retry-after': '2.5' }),
    throttled: true,
    waitMs: 2_500,
    waitSource: 'retry-after',
  },
  {
    seen: 'Graph incoming bytes, no Retry-After',
    signal: http(429, graphBody('ApplicationThrottled', 'Application is over its IncomingBytes limit.')),
    throttled: true,
    waitMs: BACKOFF,
    waitSource: 'backoff',
  },
  {
    seen: 'Graph activity limit',
    signal: http(429, graphBody('activityLimitReached', 'The request has been throttled')),
    throttled: true,
    waitMs: BACKOFF,
    waitSource: 'backoff',
  },
  {
    seen: 'Graph 503 with Retry-After',
    signal: http(503, graphBody('ServiceUnavailable', 'Service Unavailable'), { 'Retry-After': '30' }),
    throttled: true,
    waitMs: 30_000,
    waitSource: 'retry-after',
  },
  {
    seen: 'Graph 503 throttledRequest',
    signal: http(503, graphBody('throttledRequest', 'The request has been throttled')),
    throttled: true,
    waitMs: BACKOFF,
    waitSource: 'backoff',
  },
  { seen: 'Graph 504 without Retry-After (an ordinary transient error)', signal: http(504, graphBody('UnknownError', '')), throttled: false },
  {
    seen: 'Graph 504 with Retry-After',
    signal: http(504, graphBody('UnknownError', ''), { 'Retry-After': '5' }),
    throttled: true,
    waitMs: 5_000,
    waitSource: 'retry-after',
  },
  {
    seen: 'Graph expired token',
    signal: http(401, graphBody('InvalidAuthenticationToken', 'Access token has expired or is not yet valid.')),
    throttled: false,
  },
  { seen: 'Graph missing item', signal: http(404, graphBody('ErrorItemNotFound', 'The specified object was not found in the store.')), throttled: false },
  {
    seen: 'Graph access denied ("try again" is not "try again later")',
    signal: http(403, graphBody('ErrorAccessDenied', 'Access is denied. Check credentials and try again.')),
    throttled: false,
  },
  { seen: 'Graph delta token expired', signal: http(410, graphBody('SyncStateNotFound', 'The sync state is invalid or has expired.')), throttled: false },
  { seen: 'Graph 200 whose email body mentions TooManyRequests', signal: http(200, '{"subject":"TooManyRequests in our logs"}'), throttled: false },

  // Socket events
  {
    seen: 'the selected folder closed mid-run (javax.mail.FolderClosedException)',
    signal: { kind: 'socket', event: 'folder-closed', text: 'FolderClosedException: * BYE Connection closed. 14' },
    throttled: true,
    waitMs: BACKOFF,
    waitSource: 'backoff',
  },
  {
    seen: 'connection cut in the middle of a message',
    signal: { kind: 'socket', event: 'closed-mid-command', text: 'Unexpected close during UID FETCH' },
    throttled: true,
    waitMs: BACKOFF,
    waitSource: 'backoff',
  },
  { seen: 'connection reset', signal: { kind: 'socket', event: 'reset', text: 'read ECONNRESET' }, throttled: true, waitMs: BACKOFF, waitSource: 'backoff' },
  { seen: 'connection refused', signal: { kind: 'socket', event: 'refused', text: 'connect ECONNREFUSED 127.0.0.1:993' }, throttled: false },
  { seen: 'DNS failure', signal: { kind: 'socket', event: 'dns', text: 'getaddrinfo ENOTFOUND imap.example.invalid' }, throttled: false },
  { seen: 'TLS failure', signal: { kind: 'socket', event: 'tls', text: 'unable to verify the first certificate' }, throttled: false },
  { seen: 'timeout', signal: { kind: 'socket', event: 'timeout', text: 'Socket timeout' }, throttled: false },
];

describe('classifies server replies as throttling or not', () => {
  it('has a table of at least 40 real lines, both throttling and not', () => {
    assert.ok(TABLE.length >= 40, `only ${TABLE.length} rows`);
    assert.ok(TABLE.filter((row) => row.throttled).length >= 15);
    assert.ok(TABLE.filter((row) => !row.throttled).length >= 15);
  });

  for (const row of TABLE) {
    const text = 'text' in row.signal && row.signal.text ? row.signal.text : `${row.signal.kind} ${'status' in row.signal ? row.signal.status : ''}`;
    it(`${row.throttled ? 'throttling' : 'not throttling'}: ${row.seen}: ${text.slice(0, 80)}`, () => {
      const result = classify(row.signal, policy, state);
      assert.equal(result.throttled, row.throttled, result.reason);
      assert.ok(result.reason.length > 0);
      if (!result.throttled) return;
      if (row.waitMs !== undefined) assert.equal(result.waitMs, row.waitMs, result.reason);
      if (row.waitSource !== undefined) assert.equal(result.waitSource, row.waitSource);
      assert.equal(result.slowDownOnly === true, row.slowDownOnly === true);
      assert.ok(result.matched.length > 0);
    });
  }

  it("puts the server's words in the reason", () => {
    const result = classify(imap('A1 NO [UNAVAILABLE] Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)'), policy, state);
    assert.match(result.reason, /Maximum number of connections from user\+IP exceeded/);
    const refused = classify(login('imap', 'A1 NO [AUTHENTICATIONFAILED] Authentication failed.', true), policy, state);
    assert.match(refused.reason, /bad credentials/);
    assert.match(refused.reason, /Authentication failed\./);
  });

  it('names the pattern or rule that decided', () => {
    const byPattern = classify(imap('10EA NO Server Unavailable. 15'), policy, state);
    assert.ok(byPattern.throttled);
    assert.equal(byPattern.matched, 'Server Unavailable\\. \\d+');
    const byCode = classify(pop3('-ERR [IN-USE] Mailbox is locked by another POP3 session.'), policy, state);
    assert.ok(byCode.throttled);
    assert.equal(byCode.matched, 'code-IN-USE');
  });

  it('gives up the cautious login retry after a few tries, so a changed password surfaces', () => {
    const signal = login('pop3', '-ERR Logon failure: unknown user name or bad password.', true);
    assert.equal(classify(signal, policy, { ...state, consecutive: 2 }).throttled, true);
    const last = classify(signal, policy, { ...state, consecutive: 3 });
    assert.equal(last.throttled, false);
    assert.match(last.reason, /still refused/);
  });

  it('reads a pasted line for throttle-check, guessing the protocol', () => {
    assert.equal(classify(signalFromLine('-ERR [IN-USE] Mailbox is locked by another POP3 session.'), policy, state).throttled, true);
    assert.equal(classify(signalFromLine('550 5.4.5 Daily sending quota exceeded.'), policy, state).throttled, true);
    assert.equal(classify(signalFromLine('250 2.0.0 OK'), policy, state).throttled, false);
    const slow = classify(signalFromLine('A2 OK Success [THROTTLED]'), policy, state);
    assert.ok(slow.throttled && slow.slowDownOnly);
    assert.equal(classify(signalFromLine('A3 BAD User is authenticated but not connected.'), policy, state).throttled, false);
  });
});
