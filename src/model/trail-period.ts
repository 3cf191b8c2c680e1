/**
 * The `since` and `until` of an email-trail search (`postroom trace`, `GET /api/emails`): an ISO
 * 8601 date or date-time. A date is a whole UTC day: `since 2026-11-17` starts at its midnight,
 * `until 2026-11-17` includes it (ends at the next midnight). A date-time names its zone.
 */
export const TRAIL_PERIOD_FORM = 'an ISO 8601 date or date-time, e.g. 2026-11-17 or 2026-11-17T09:30:00Z (a time needs Z or an offset such as +01:00)';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/i;
const DAY_MS = 86_400_000;

/** Midnight UTC of a calendar date that exists (2026-02-30 does not); undefined otherwise. */
function utcMidnight(year: string, month: string, day: string): number | undefined {
  const at = Date.UTC(Number(year), Number(month) - 1, Number(day));
  const back = new Date(at);
  const exists = back.getUTCFullYear() === Number(year) && back.getUTCMonth() === Number(month) - 1 && back.getUTCDate() === Number(day);
  return exists ? at : undefined;
}

/** The moment (epoch ms) a bound names; undefined when the text is not TRAIL_PERIOD_FORM. */
export function parseTrailBound(text: string, bound: 'since' | 'until'): number | undefined {
  const trimmed = text.trim();
  const date = DATE.exec(trimmed);
  if (date) {
    const midnight = utcMidnight(date[1]!, date[2]!, date[3]!);
    if (midnight === undefined) return undefined;
    return bound === 'until' ? midnight + DAY_MS : midnight;
  }
  const dateTime = DATE_TIME.exec(trimmed);
  if (!dateTime || utcMidnight(dateTime[1]!, dateTime[2]!, dateTime[3]!) === undefined) return undefined;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : at;
}
