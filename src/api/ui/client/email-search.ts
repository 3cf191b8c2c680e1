/**
 * The Emails page's search form as data: its fields to the GET /api/emails query, and the
 * connection the page is opened for (`#/emails?connection=shop`, from the status board). Dates
 * are whole days in the browser's time zone: "to" includes its day. No import of the API client.
 */
import type { EmailState } from '../../trail-words.ts';

export interface EmailSearchForm {
  /** Words anywhere in the sender, the subject or the Message-ID. */
  text: string;
  messageId: string;
  from: string;
  subject: string;
  /** yyyy-mm-dd, as an <input type="date"> holds it; '' for no bound. */
  since: string;
  until: string;
  connection: string;
  state: EmailState | '';
}

export function emptySearchForm(connection = ''): EmailSearchForm {
  return { text: '', messageId: '', from: '', subject: '', since: '', until: '', connection, state: '' };
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The start of a yyyy-mm-dd day in the browser's time zone, `days` later; undefined for no date. */
function dayStart(value: string, days = 0): Date | undefined {
  const match = DAY.exec(value);
  if (!match) return undefined;
  return new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + days);
}

/** What is wrong with the form before it is sent (the API's own checks come after); null when nothing. */
export function searchProblem(form: EmailSearchForm): string | null {
  const since = dayStart(form.since);
  const until = dayStart(form.until);
  if (since && until && until < since) return 'The "to" date is before the "from" date: swap them, or clear one.';
  return null;
}

/**
 * GET /api/emails with the filled-in fields only; "to" becomes the start of the next day, so its
 * whole day is included. `after`: the previous page's `next` cursor, for the page after it.
 */
export function searchPath(form: EmailSearchForm, after?: string): string {
  const params = new URLSearchParams();
  const put = (name: string, value: string) => {
    if (value.trim()) params.set(name, value.trim());
  };
  put('q', form.text);
  put('messageId', form.messageId);
  put('from', form.from);
  put('subject', form.subject);
  put('since', dayStart(form.since)?.toISOString() ?? '');
  put('until', dayStart(form.until, 1)?.toISOString() ?? '');
  put('connection', form.connection);
  put('state', form.state);
  put('after', after ?? '');
  const query = params.toString();
  return query ? `/api/emails?${query}` : '/api/emails';
}

/** Whether the search narrows anything down (an empty result then means "nothing picked up yet"). */
export function isBlankSearch(form: EmailSearchForm): boolean {
  return Object.values(form).every((value) => value.trim() === '');
}

/** The Emails page's address for one connection's emails (every email when none). */
export function emailsHash(connection?: string): string {
  return connection ? `#/emails?${new URLSearchParams({ connection }).toString()}` : '#/emails';
}

/** The connection an address like `#/emails?connection=shop` names; '' when none. */
export function connectionFromHash(hash: string): string {
  const at = hash.indexOf('?');
  return at < 0 ? '' : (new URLSearchParams(hash.slice(at + 1)).get('connection') ?? '');
}
