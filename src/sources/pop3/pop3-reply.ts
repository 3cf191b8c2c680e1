/**
 * One POP3 status line ("+OK ...", "-ERR [IN-USE] ...", or a SASL "+ <challenge>") and the
 * error a "-ERR" reply becomes. The error carries the command's verb, never its arguments, so a
 * PASS or AUTH line can never reach a log.
 */

export interface Pop3Reply {
  ok: boolean;
  /** "+ ..." during SASL AUTH: the server waits for the next client line. */
  continuation: boolean;
  /** The text after the status indicator, without the response code. */
  text: string;
  /** RFC 2449 extended response code, e.g. "IN-USE", "SYS/TEMP", "AUTH". */
  code?: string;
  /** The whole status line without CRLF, for error messages (the server's words only). */
  line: string;
}

const RESPONSE_CODE = /^\[([A-Za-z0-9/-]+)(?:\s[^\]]*)?\]\s*/;

export function parseReply(raw: Buffer): Pop3Reply | undefined {
  const line = raw.toString('latin1').replace(/\r?\n$/, '');
  let ok: boolean;
  let continuation = false;
  let rest: string;
  if (/^\+OK(?:\s|$)/i.test(line)) {
    ok = true;
    rest = line.slice(3);
  } else if (/^-ERR(?:\s|$)/i.test(line)) {
    ok = false;
    rest = line.slice(4);
  } else if (/^\+(?:\s|$)/.test(line)) {
    ok = true;
    continuation = true;
    rest = line.slice(1);
  } else {
    return undefined;
  }
  rest = rest.trimStart();
  const match = RESPONSE_CODE.exec(rest);
  const reply: Pop3Reply = { ok, continuation, text: match ? rest.slice(match[0].length) : rest, line };
  if (match) reply.code = match[1]!.toUpperCase();
  return reply;
}

/** A "-ERR" reply to a command. */
export class Pop3ReplyError extends Error {
  readonly verb: string;
  readonly reply: Pop3Reply;

  constructor(verb: string, reply: Pop3Reply) {
    super(`${verb}: ${reply.line}`);
    this.name = 'Pop3ReplyError';
    this.verb = verb;
    this.reply = reply;
  }
}

/** The server broke the protocol (an unparsable or unsolicited line, an overlong line). */
export class Pop3ProtocolError extends Error {
  readonly code = 'EPOP3PROTOCOL';

  constructor(message: string) {
    super(message);
    this.name = 'Pop3ProtocolError';
  }
}
