/** `postroom preview <connection> [--limit N]`: what the next poll would take and leave, and why; changes nothing. */
import type { Command } from 'commander';
import { DEFAULT_PREVIEW_LIMIT, type PreviewRow, previewConnection } from '../engine/preview-connection.ts';
import { PostroomError } from '../model/errors.ts';
import { loadSource } from '../sources/registry.ts';
import { EXIT, loadContext, openContextStore, runCommand } from './context.ts';

const DECIDED: Record<PreviewRow['decidedOn'], string> = {
  server: "by the server's search",
  headers: 'on the headers',
  content: 'on the content',
};

function line(row: PreviewRow): string {
  const what = `${row.subject ?? '(no subject)'} — ${row.from ?? '(no sender)'}${row.size !== null ? `, ${row.size} bytes` : ''}`;
  if (row.verdict === 'left') {
    const warning = row.warning ? `\n       WARNING: ${row.warning}` : '';
    return `left   ${what}\n       ${row.condition}: ${row.reason} (decided ${DECIDED[row.decidedOn]})${warning}`;
  }
  if (row.verdict === 'unreadable') return `?      ${what}\n       could not be read: ${row.reason}`;
  const parts = (row.parts ?? []).map((part) => `\n       ${part.kind} ${part.filename} → ${part.destination}`).join('');
  return `taken  ${what}\n       ${row.reason}${parts}`;
}

export function registerPreview(program: Command): void {
  program
    .command('preview <connection>')
    .option('--limit <n>', `emails to look at (default ${DEFAULT_PREVIEW_LIMIT})`)
    .option('--json', 'print JSON')
    .action(async (name: string, options: { limit?: string; json?: boolean }, command: Command) =>
      runCommand(async () => {
        const context = loadContext(command);
        const all = context.loaded.config.connections;
        const connection = all.find((c) => c.name === name);
        if (!connection)
          throw new PostroomError('CONNECTION_NOT_FOUND', `"${name}"`, { hint: `Connections in the config: ${all.map((c) => c.name).join(', ') || 'none'}.` });
        const limit = options.limit === undefined ? DEFAULT_PREVIEW_LIMIT : Number(options.limit);
        if (!Number.isInteger(limit) || limit < 1)
          throw new PostroomError('CONFIG_INVALID', `--limit ${options.limit}`, { hint: 'Give a whole number of emails, e.g. --limit 50.' });
        const opened = await openContextStore(context);
        try {
          const rows = await previewConnection(connection, { store: opened.store, source: await loadSource(connection.hostType), log: context.log, limit });
          if (options.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
          else {
            const taken = rows.filter((row) => row.verdict === 'taken').length;
            process.stdout.write(
              `${name}: the next poll sees ${rows.length} email(s)${rows.length === limit ? ` (the first ${limit})` : ''}: ${taken} taken, ${rows.length - taken} left\n`,
            );
            for (const row of rows) process.stdout.write(`${line(row)}\n`);
          }
          return EXIT.ok;
        } finally {
          await opened.store.close();
        }
      }),
    );
}
