/**
 * The Filter section's model: a connection's `filter`, `filtered` and `filterOnServer`, to and from the dialog's
 * text fields. Patterns are one per line (a regex may hold a comma, so commas do not separate);
 * sizes are shown as the largest unit that states them exactly, so loading a connection and
 * saving it unchanged sends back the same filter. No import of the API client: plain data only.
 */

export type HasAttachments = 'any' | 'with' | 'without';
export type SkipOrInclude = 'include' | 'skip';
export type FilteredChoice = 'leave' | 'markRead' | 'moveTo' | 'delete';
/** `filterOnServer`: on (the default, sent as nothing) or off (`false`). */
export type OnServer = 'on' | 'off';

export interface FilterForm {
  filterFrom: string;
  filterTo: string;
  filterSubject: string;
  filterHasAttachments: HasAttachments;
  filterAttachmentTypes: string;
  filterMinSize: string;
  filterMaxSize: string;
  filterAutoReplies: SkipOrInclude;
  filterBounces: SkipOrInclude;
  filtered: FilteredChoice;
  filteredMoveTo: string;
  filterOnServer: OnServer;
}

export type FilterFieldName = keyof FilterForm;

export function emptyFilterForm(): FilterForm {
  return {
    filterFrom: '',
    filterTo: '',
    filterSubject: '',
    filterHasAttachments: 'any',
    filterAttachmentTypes: '',
    filterMinSize: '',
    filterMaxSize: '',
    filterAutoReplies: 'include',
    filterBounces: 'include',
    filtered: 'leave',
    filteredMoveTo: '',
    filterOnServer: 'on',
  };
}

/** The pattern-list conditions: form field ↔ `filter` key. */
const PATTERN_FIELDS = [
  ['filterFrom', 'from'],
  ['filterTo', 'to'],
  ['filterSubject', 'subject'],
  ['filterAttachmentTypes', 'attachmentTypes'],
] as const;

const SIZE_FIELDS = [
  ['filterMinSize', 'minSize'],
  ['filterMaxSize', 'maxSize'],
] as const;

/** Decimal first (as providers state limits), then binary; a size no unit divides stays bytes. */
const UNITS: Array<[string, number]> = [
  ['GB', 1e9],
  ['MB', 1e6],
  ['KB', 1e3],
  ['GiB', 1024 ** 3],
  ['MiB', 1024 ** 2],
  ['KiB', 1024],
];

/** 25000000 → "25MB", 1048576 → "1MiB", 1500 → "1500": what the API parses back to the same bytes. */
export function formatByteSize(bytes: number): string {
  if (bytes > 0) for (const [unit, size] of UNITS) if (bytes % size === 0) return `${bytes / size}${unit}`;
  return String(bytes);
}

function patternsText(value: unknown): string {
  if (Array.isArray(value)) return value.map(String).join('\n');
  return typeof value === 'string' ? value : '';
}

function sizeText(value: unknown): string {
  if (typeof value === 'number') return formatByteSize(value);
  return typeof value === 'string' ? value : '';
}

/** The connection's `filter`, `filtered` and `filterOnServer` as the API shows them, into the form. */
export function filterFormFromView(filter: unknown, filtered: unknown, filterOnServer?: unknown): FilterForm {
  const f = (typeof filter === 'object' && filter !== null ? filter : {}) as Record<string, unknown>;
  const form = emptyFilterForm();
  for (const [field, key] of PATTERN_FIELDS) form[field] = patternsText(f[key]);
  for (const [field, key] of SIZE_FIELDS) form[field] = sizeText(f[key]);
  form.filterHasAttachments = f.hasAttachments === true ? 'with' : f.hasAttachments === false ? 'without' : 'any';
  form.filterAutoReplies = f.autoReplies === 'skip' ? 'skip' : 'include';
  form.filterBounces = f.bounces === 'skip' ? 'skip' : 'include';
  if (filtered === 'markRead' || filtered === 'delete') form.filtered = filtered;
  else if (typeof filtered === 'object' && filtered !== null && 'moveTo' in filtered) {
    form.filtered = 'moveTo';
    form.filteredMoveTo = String((filtered as { moveTo: unknown }).moveTo ?? '');
  }
  if (filterOnServer === false) form.filterOnServer = 'off';
  return form;
}

/** One pattern per non-empty line, trimmed. */
export function patternLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/** The `filter`, `filtered` and `filterOnServer` to send: only the conditions given; no `filter` when none is. */
export function filterBodyFromForm(form: FilterForm): { filter?: Record<string, unknown>; filtered?: unknown; filterOnServer?: false } {
  const filter: Record<string, unknown> = {};
  for (const [field, key] of PATTERN_FIELDS) {
    const lines = patternLines(form[field]);
    if (lines.length) filter[key] = lines;
  }
  if (form.filterHasAttachments !== 'any') filter.hasAttachments = form.filterHasAttachments === 'with';
  for (const [field, key] of SIZE_FIELDS) {
    const size = form[field].trim();
    if (size) filter[key] = size;
  }
  if (form.filterAutoReplies === 'skip') filter.autoReplies = 'skip';
  if (form.filterBounces === 'skip') filter.bounces = 'skip';
  const body: { filter?: Record<string, unknown>; filtered?: unknown; filterOnServer?: false } = {};
  if (Object.keys(filter).length) body.filter = filter;
  if (form.filtered === 'moveTo') body.filtered = { moveTo: form.filteredMoveTo.trim() };
  else if (form.filtered !== 'leave') body.filtered = form.filtered;
  if (form.filterOnServer === 'off') body.filterOnServer = false;
  return body;
}

const FIELD_OF_KEY: Record<string, FilterFieldName> = {
  from: 'filterFrom',
  to: 'filterTo',
  subject: 'filterSubject',
  hasAttachments: 'filterHasAttachments',
  attachmentTypes: 'filterAttachmentTypes',
  minSize: 'filterMinSize',
  maxSize: 'filterMaxSize',
  autoReplies: 'filterAutoReplies',
  bounces: 'filterBounces',
};

/** API issue path (`filter.subject[1]`, `filtered.moveTo`) → the Filter section's field, or null. */
export function filterFieldOfIssue(path: string): FilterFieldName | null {
  const [head, key] = path.split(/[.[]/);
  if (head === 'filter') return (key && FIELD_OF_KEY[key]) || null;
  if (head === 'filtered') return key === 'moveTo' ? 'filteredMoveTo' : 'filtered';
  if (head === 'filterOnServer') return 'filterOnServer';
  return null;
}
