/**
 * Machine-readable response codes in IMAP ("NO [UNAVAILABLE] ...", RFC 5530) and POP3
 * ("-ERR [IN-USE] ...", RFC 2449 and RFC 3206) replies, and what each says about throttling.
 */

/** Codes that mean "try later": the server is limiting us, not refusing us. */
export const THROTTLING_CODES: ReadonlyMap<string, string> = new Map([
  ['UNAVAILABLE', 'IMAP UNAVAILABLE (RFC 5530: temporary failure)'], // Dovecot 2.3 connection limit
  ['INUSE', 'IMAP INUSE (RFC 5530: resource in use)'],
  ['LIMIT', 'IMAP LIMIT (RFC 5530: limit reached)'], // Dovecot 2.4 connection limit, Yahoo "Rate limit hit"
  ['IN-USE', 'POP3 IN-USE (RFC 2449: mailbox in use)'], // Dovecot "Mailbox is locked by another POP3 session"
  ['LOGIN-DELAY', 'POP3 LOGIN-DELAY (RFC 2449: logged in too recently)'],
  ['SYS/TEMP', 'POP3 SYS/TEMP (RFC 3206: temporary system problem)'],
]);

/** Gmail's "OK Success [THROTTLED]": the command worked, but slow down. */
export const SLOW_DOWN_CODE = 'THROTTLED';

/** Codes that mean something other than throttling; the phrase goes into the reason. */
export const NOT_THROTTLING_CODES: ReadonlyMap<string, string> = new Map([
  ['AUTHENTICATIONFAILED', 'bad credentials'], // RFC 5530
  ['AUTH', 'bad credentials'], // RFC 3206
  ['AUTHORIZATIONFAILED', 'not authorised for that mailbox'],
  ['EXPIRED', 'credentials expired'],
  ['PRIVACYREQUIRED', 'TLS required'],
  ['CONTACTADMIN', 'the account needs its administrator'],
  ['NOPERM', 'no permission'],
  ['NONEXISTENT', 'missing folder'],
  ['TRYCREATE', 'missing folder'],
  ['OVERQUOTA', 'storage quota exceeded'], // Dovecot "Quota exceeded (mailbox for user is full)"
  ['SYS/PERM', 'permanent server error'], // RFC 3206
  ['SERVERBUG', 'server error'],
  ['CLIENTBUG', 'client error'],
  ['CANNOT', 'the server cannot do that'],
  ['WEBALERT', 'the provider wants a web login'], // Gmail
]);

/** "[CODE" or "[CODE/SUB" followed by a space or "]": IMAP resp-text-code and POP3 resp-code syntax. */
const CODE_IN_TEXT = /\[([A-Za-z][A-Za-z0-9-]*(?:\/[A-Za-z0-9-]+)*)(?=[\s\]])/g;

/** The given code (brackets and arguments stripped) and every code in the text, upper-cased. */
export function responseCodes(text: string, given?: string): string[] {
  const codes: string[] = [];
  const normalised = given
    ?.trim()
    .replace(/^\[/, '')
    .split(/[\s\]]/)[0]
    ?.toUpperCase();
  if (normalised) codes.push(normalised);
  for (const match of text.matchAll(CODE_IN_TEXT)) {
    const code = match[1]?.toUpperCase();
    if (code && !codes.includes(code)) codes.push(code);
  }
  return codes;
}
