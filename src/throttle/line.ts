/**
 * A pasted server line as a ThrottleSignal, for `postroom throttle-check "<line>"`: the protocol
 * is guessed from the line's shape when not given.
 */
import type { ThrottleSignal } from './classify.ts';

/** "+OK ..." / "-ERR ..." is POP3 (RFC 1939). */
const POP3_LINE = /^[+-](?:OK|ERR)\b/i;

/** "421 4.7.0 ..." / "550-5.4.5 ..." is SMTP (RFC 5321 reply code). */
const SMTP_LINE = /^\d{3}(?:[ -]|$)/;

export function guessProtocol(line: string): 'imap' | 'pop3' | 'smtp' {
  const text = line.trim();
  if (POP3_LINE.test(text)) return 'pop3';
  if (SMTP_LINE.test(text)) return 'smtp';
  return 'imap';
}

export function signalFromLine(line: string, protocol: 'imap' | 'pop3' | 'smtp' = guessProtocol(line)): ThrottleSignal {
  return { kind: 'reply', protocol, text: line.trim() };
}
