/**
 * Calendar parts (iTIP, RFC 5546) carry a method — REQUEST, CANCEL, REPLY... — that tells the
 * receiving system what to do with the invite, so the envelope reports it.
 */
import { cleanFileName } from './file-names.ts';

const CALENDAR_TYPES: ReadonlySet<string> = new Set(['text/calendar', 'application/ics']);

/** METHOD sits in the VCALENDAR preamble, before any VEVENT; 64 KiB is far more than that. */
export const CALENDAR_HEAD_BYTES = 64 * 1024;

export function isCalendar(contentType: string, filename: string | undefined): boolean {
  return CALENDAR_TYPES.has(contentType) || /\.ics$/i.test(cleanFileName(filename) ?? '');
}

/** The Content-Type `method=` parameter when given, else the iCalendar METHOD property. */
export function calendarMethod(param: string | undefined, head: Buffer): string | undefined {
  const fromParam = normalise(param);
  if (fromParam !== undefined) return fromParam;
  // iCalendar folds long lines with CRLF + one space or tab (RFC 5545 3.1).
  const text = head.toString('utf8').replace(/\r?\n[ \t]/g, '');
  const match = /^METHOD(?:;[^:\r\n]*)?:([^\r\n]*)$/im.exec(text);
  return normalise(match?.[1]);
}

function normalise(method: string | undefined): string | undefined {
  const value = method?.trim().toUpperCase();
  return value ? value : undefined;
}
