import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Pop3Stage, toPop3Error } from '../../src/sources/pop3/pop3-errors.ts';
import { Pop3ProtocolError, Pop3ReplyError, parseReply } from '../../src/sources/pop3/pop3-reply.ts';

const endpoint = { host: 'pop.example.com', port: 995 };

function replyError(verb: string, line: string): Pop3ReplyError {
  const reply = parseReply(Buffer.from(`${line}\r\n`));
  assert.ok(reply, line);
  return new Pop3ReplyError(verb, reply);
}

function sorted(verb: string, line: string, stage: Pop3Stage) {
  return toPop3Error(replyError(verb, line), endpoint, stage);
}

describe('POP3 failures in the error catalogue', () => {
  it('reads RFC 2449 response codes from status lines', () => {
    assert.deepEqual(parseReply(Buffer.from('-ERR [SYS/TEMP] try later\r\n')), {
      ok: false,
      continuation: false,
      text: 'try later',
      code: 'SYS/TEMP',
      line: '-ERR [SYS/TEMP] try later',
    });
    assert.deepEqual(parseReply(Buffer.from('+OK 2 messages\r\n')), { ok: true, continuation: false, text: '2 messages', line: '+OK 2 messages' });
    assert.equal(parseReply(Buffer.from('+ eyJzdGF0dXMiOiI0MDEifQ==\r\n'))?.continuation, true);
    assert.equal(parseReply(Buffer.from('* OK IMAP here\r\n')), undefined);
  });

  it('takes [IN-USE], [LOGIN-DELAY] and [SYS/TEMP] for throttling, at login or later', () => {
    for (const [verb, line, stage] of [
      ['PASS', '-ERR [IN-USE] Mailbox is locked by another POP3 session', 'login'],
      ['PASS', '-ERR [LOGIN-DELAY] Logged in too recently', 'login'],
      ['RETR', '-ERR [SYS/TEMP] Internal error occurred', 'fetch'],
      ['QUIT', '-ERR [SYS/TEMP] Could not expunge', 'acknowledge'],
    ] as const) {
      const error = sorted(verb, line, stage);
      assert.equal(error.code, 'THROTTLED', line);
      assert.equal(error.throttling, true);
      assert.equal(error.serverResponse, line);
      assert.equal(error.signal?.kind, 'reply');
    }
  });

  it('takes [AUTH] and any refusal of USER, PASS or AUTH for a refused login, with a hint', () => {
    for (const [verb, line] of [
      ['PASS', '-ERR [AUTH] Authentication failed.'],
      ['USER', '-ERR unknown user'],
      ['AUTH XOAUTH2', '-ERR [AUTH] Invalid token'],
    ] as const) {
      const error = sorted(verb, line, 'login');
      assert.equal(error.code, 'AUTH_FAILED', line);
      assert.equal(error.retryable, false);
      assert.equal(error.signal?.kind, 'login-failed');
      assert.match(error.explain(), /Check the username and password/);
    }
  });

  it('says a refused RETR is a failed fetch, and [SYS/PERM] is not retried', () => {
    const fetch = sorted('RETR', '-ERR Message is deleted.', 'fetch');
    assert.equal(fetch.code, 'FETCH_FAILED');
    assert.equal(fetch.retryable, true);
    const permanent = sorted('DELE', '-ERR [SYS/PERM] Mailbox is read-only', 'acknowledge');
    assert.equal(permanent.code, 'PROTOCOL_ERROR');
    assert.equal(permanent.retryable, false);
    assert.equal(sorted('STLS', '-ERR TLS not available', 'tls').code, 'TLS_FAILED');
  });

  it('sorts socket failures through the shared network classifier, with a throttle signal', () => {
    const lost = toPop3Error(Object.assign(new Error('the server closed the connection'), { code: 'EConnectionClosed' }), endpoint, 'fetch');
    assert.equal(lost.code, 'CONNECTION_LOST');
    assert.deepEqual(lost.signal, { kind: 'socket', event: 'closed-mid-command', text: 'the server closed the connection' });
    assert.equal(toPop3Error(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), endpoint, 'connect').code, 'CONNECTION_REFUSED');
    assert.equal(toPop3Error(Object.assign(new Error('x'), { code: 'ETIMEDOUT' }), endpoint, 'list').code, 'CONNECTION_TIMEOUT');
    assert.equal(
      toPop3Error(Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), endpoint, 'connect').code,
      'TLS_CERTIFICATE',
    );
    assert.equal(toPop3Error(new Pop3ProtocolError('unsolicited line'), endpoint, 'list').code, 'PROTOCOL_ERROR');
  });
});
