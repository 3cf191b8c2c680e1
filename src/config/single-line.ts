/**
 * Fields that end up on a protocol line (POP3 USER/PASS, SMTP AUTH, IMAP names, HTTP headers,
 * host names): a CR or LF would end the line and start a command of someone else's choosing,
 * a NUL cuts it short. Such fields refuse them, and the message names the field.
 */
import type { z } from 'zod';

const LINE_BREAK_OR_NUL = /[\r\n\0]/;

/** `schema` (a string schema) refusing CR, LF and NUL, with a message naming `field`. */
export function singleLine<S extends z.ZodType<string>>(schema: S, field: string) {
  return schema.refine((value) => !LINE_BREAK_OR_NUL.test(value), `${field} may not contain a line break (CR, LF) or NUL`);
}
