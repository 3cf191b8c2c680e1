/**
 * `postroom trace`: where did my email go? Searches the email trail by words, Message-ID,
 * sender, subject, date, connection and state and prints a table (or `--json`, the API's
 * shape); `--email <id>`, or an id as the only argument, prints that email's trail as a timeline.
 */
import type { Command } from 'commander';
import { toEmailTrailView, toEmailView } from '../api/email-trail-view.ts';
import { findEmailTrail } from '../api/find-email-trail.ts';
import type { EmailTrailView, EmailView } from '../api/schemas.ts';
import { toTrailQuery, trailCursor, trailQuerySchema } from '../api/trail-query.ts';
import { parseEmailId } from '../model/email-id.ts';
import { MAX_TRAIL_LIMIT } from '../store/sql/trail.ts';
import type { Store, TrailEmail, TrailPage } from '../store/store.ts';
import { EXIT, loadContext, openContextStore, runCommand } from './context.ts';

interface TraceOptions {
  email?: string;
  messageId?: string;
  from?: string;
  subject?: string;
  since?: string;
  until?: string;
  connection?: string;
  state?: string;
  limit?: string;
  after?: string;
  all?: boolean;
  json?: boolean;
}

/** The CLI's name for each field of the API's query, for error messages. */
const FLAG: Record<string, string> = {
  q: 'words',
  messageId: '--message-id',
  from: '--from',
  subject: '--subject',
  since: '--since',
  until: '--until',
  connection: '--connection',
  state: '--state',
  limit: '--limit',
  after: '--after',
};

const SEARCH_OPTIONS = ['messageId', 'from', 'subject', 'since', 'until', 'connection', 'state'] as const;

export function registerTrace(program: Command): void {
  program
    .command('trace [words...]')
    .option('--email <id>', "show this email's whole trail (the id from a search)")
    .option('--message-id <id>', 'the Message-ID, with or without the angle brackets')
    .option('--from <text>', 'part of the sender, e.g. supplier.example')
    .option('--subject <words>', 'words that must each appear in the subject')
    .option('--since <when>', 'picked up at or after: 2026-11-17 (that UTC day) or 2026-11-17T09:30:00Z')
    .option('--until <when>', 'picked up before: 2026-11-17 (that whole UTC day included) or a date-time with a zone')
    .option('--connection <name>', 'only this connection')
    .option('--state <state>', 'delivered, pending, retrying, dead or filtered')
    .option('--limit <n>', 'at most this many (default 50, at most 500); more are a page away (--after) or all shown (--all)')
    .option('--after <cursor>', 'the next page of the same search: the cursor the previous page printed')
    .option('--all', 'every matching email, however many (read 500 at a time)')
    .option('--json', 'print JSON (the shape of GET /api/emails and GET /api/emails/{id})')
    .addHelpText(
      'after',
      "\nWords must each appear in the sender, the subject or the Message-ID. An email id as the only argument\n(no option but --json) shows that email's trail, as --email does; if no email has it, it is searched as a word.",
    )
    .action(async (words: string[], options: TraceOptions, command: Command) =>
      runCommand(async () => {
        const context = loadContext(command);
        const opened = await openContextStore(context);
        try {
          const { store } = opened;
          if (options.email) return printTrail(toEmailTrailView(await findEmailTrail(store, options.email)), options.json);
          const trail = await trailOfSoleId(store, words, options);
          if (trail) return printTrail(trail, options.json);
          return await search(store, words, options);
        } finally {
          await opened.store.close();
        }
      }),
    );
}

/** `postroom trace <id>`: the trail, when the only argument is an email id that an email has. */
async function trailOfSoleId(store: Store, words: string[], options: TraceOptions): Promise<EmailTrailView | undefined> {
  if (words.length !== 1 || SEARCH_OPTIONS.some((name) => options[name] !== undefined)) return undefined;
  const parsed = parseEmailId(words[0]!);
  if (!parsed) return undefined;
  const trail = await store.emailTrail(parsed.connection, parsed.sourceKey);
  return trail ? toEmailTrailView(trail) : undefined;
}

async function search(store: Store, words: string[], options: TraceOptions): Promise<number> {
  const input = {
    ...(words.length ? { q: words.join(' ') } : {}),
    ...Object.fromEntries(
      [...SEARCH_OPTIONS, 'limit' as const, 'after' as const].filter((name) => options[name] !== undefined).map((name) => [name, options[name]]),
    ),
    // --all reads the whole result in the largest pages.
    ...(options.all ? { limit: String(MAX_TRAIL_LIMIT) } : {}),
  };
  const parsed = trailQuerySchema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) process.stderr.write(`postroom: ${FLAG[String(issue.path[0])] ?? String(issue.path[0])}: ${issue.message}\n`);
    return EXIT.usage;
  }
  const query = toTrailQuery(parsed.data);
  const found: TrailEmail[] = [];
  let page: TrailPage;
  do {
    page = await store.searchEmails(query);
    found.push(...page.emails);
    const last = page.emails.at(-1);
    if (last) query.after = { pickedUpAt: last.pickedUpAt, connection: last.connection, sourceKey: last.sourceKey };
  } while (options.all && page.more);
  const last = found.at(-1);
  const next = page.more && last ? trailCursor(last) : null;
  const emails = found.map(toEmailView);
  if (options.json) process.stdout.write(`${JSON.stringify({ emails, more: page.more, next }, null, 2)}\n`);
  if (!emails.length) {
    const searched = Object.entries(input)
      .filter(([name]) => name !== 'limit' && name !== 'after')
      .map(([name, value]) => `${FLAG[name]} ${JSON.stringify(value)}`);
    process.stderr.write(
      `no email matches${searched.length ? ` ${searched.join(', ')}` : ' (the ledger is empty)'}${options.after ? ' after that cursor' : ''}; search wider: fewer words, part of the sender (--from), an earlier --since, or no --state or --connection\n`,
    );
    return EXIT.failed;
  }
  if (!options.json) {
    process.stdout.write(table(emails));
    if (next)
      process.stdout.write(
        `(${options.after ? `${emails.length} more` : `the newest ${emails.length}`}; more match: --after ${next} shows the next ${parsed.data.limit}, --all every one, or narrow the search)\n`,
      );
    process.stdout.write("postroom trace --email <id> shows one email's trail\n");
  }
  return EXIT.ok;
}

const when = (iso: string | null): string => (iso ? `${iso.slice(0, 19)}Z` : '-');
const clip = (text: string | null, width: number): string => {
  const value = text ?? '-';
  return value.length > width ? `${value.slice(0, width - 1)}…` : value;
};

function table(emails: EmailView[]): string {
  const rows = [
    ['ID', 'PICKED UP', 'CONNECTION', 'FROM', 'SUBJECT', 'STATE'],
    ...emails.map((e) => [e.id, when(e.pickedUpAt), e.connection, clip(e.from, 40), clip(e.subject, 50), e.state]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => `${row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ')}\n`).join('');
}

function printTrail(trail: EmailTrailView, json: boolean | undefined): number {
  if (json) {
    process.stdout.write(`${JSON.stringify(trail, null, 2)}\n`);
    return EXIT.ok;
  }
  const { email } = trail;
  const lines = [
    `email ${email.id}`,
    `  connection  ${email.connection} (${email.sourceKey})`,
    `  from        ${email.from ?? '-'}`,
    `  subject     ${email.subject ?? '-'}`,
    `  message-id  ${email.messageId ?? '-'}`,
    `  sent        ${when(email.sentAt)}`,
    `  size        ${email.size === null ? '-' : `${email.size} bytes`}`,
    `  state       ${email.state}${email.filtered ? ` (${email.filtered.condition}: ${email.filtered.reason})` : ''}`,
    '',
    'timeline',
  ];
  const eventWidth = Math.max(...trail.timeline.map((entry) => entry.event.length));
  for (const entry of trail.timeline) {
    const where = entry.destination ? `${entry.destination}: ` : '';
    lines.push(`  ${when(entry.at)}  ${entry.event.padEnd(eventWidth)}  ${where}${entry.detail ?? ''}`.trimEnd());
  }
  if (trail.messages.length) {
    lines.push('', 'pipeline messages');
    for (const m of trail.messages)
      lines.push(
        `  ${m.id}  ${m.kind} ${m.filename} -> ${m.destination}  ${messageState(m)}`,
        ...(m.state !== 'delivered' && m.lastError ? [`      ${m.lastError}`] : []),
      );
    if (trail.messages.some((m) => m.state === 'dead')) lines.push('  (postroom replay <id> delivers a dead letter again)');
    const keptUntil = trail.messages.find((m) => m.contentKeptUntil)?.contentKeptUntil;
    if (keptUntil) lines.push(`  (postroom replay <id> sends a delivered one again, with the same id, until ${when(keptUntil)})`);
  } else if (email.state === 'delivered') {
    lines.push('', '(its pipeline messages and their attempts were delivered and forgotten after outbox.keepDelivered)');
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return EXIT.ok;
}

const failures = (n: number): string => `${n} failed attempt${n === 1 ? '' : 's'}`;

function messageState(m: EmailTrailView['messages'][number]): string {
  switch (m.state) {
    case 'delivered':
      return `delivered ${when(m.deliveredAt)}${m.attempts ? ` after ${failures(m.attempts)}` : ''}`;
    case 'dead':
      return `dead letter after ${failures(m.attempts)}`;
    case 'discarded':
      return `discarded by hand after ${failures(m.attempts)} (see the timeline)`;
    case 'pending':
      return m.attempts ? `retrying after ${failures(m.attempts)}, next attempt ${when(m.nextAttemptAt)}` : 'pending, not tried yet';
  }
}
