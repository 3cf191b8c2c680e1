/**
 * A logger handed down already carries its caller's keys (`connection`, `destination`); a line
 * that adds them again reads `"connection":"x","connection":"x"`, which some log processors
 * reject or mangle. JSON.parse cannot see it (the last key wins), so the raw lines are read
 * here, from a real service run: IMAP with IDLE, POP3, a poll that fails, and deliveries.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '../../src/model/log.ts';
import { PostroomService } from '../../src/service/postroom-service.ts';
import { makeEmail } from '../support/corpus.ts';
import { dovecotAndWorkspace } from '../support/dovecot-and-workspace.ts';
import { imapConnection, pop3Connection, readDelivered, testConfig } from '../support/postroom.ts';
import { waitFor } from '../support/wait-for.ts';

/** The keys that occur more than once in one object of a JSON text, with the path of that object. */
export function duplicateKeys(text: string): string[] {
  const found: string[] = [];
  let at = 0;
  const space = (): void => {
    while (/\s/.test(text[at] ?? '')) at++;
  };
  const string = (): string => {
    const start = at;
    at++;
    while (text[at] !== '"') at += text[at] === '\\' ? 2 : 1;
    at++;
    return JSON.parse(text.slice(start, at)) as string;
  };
  const value = (path: string): void => {
    space();
    const c = text[at];
    if (c === '{') {
      at++;
      const seen = new Set<string>();
      space();
      if (text[at] === '}') return void at++;
      for (;;) {
        space();
        const key = string();
        if (seen.has(key)) found.push(`${path}.${key}`);
        seen.add(key);
        space();
        at++; // ':'
        value(`${path}.${key}`);
        space();
        if (text[at++] === '}') return;
      }
    }
    if (c === '[') {
      at++;
      space();
      if (text[at] === ']') return void at++;
      for (let i = 0; ; i++) {
        value(`${path}[${i}]`);
        space();
        if (text[at++] === ']') return;
      }
    }
    if (c === '"') return void string();
    while (at < text.length && !/[,}\]\s]/.test(text[at]!)) at++;
  };
  value('$');
  return found;
}

const { dovecot, ws } = await dovecotAndWorkspace();

test('the scanner finds a repeated key that JSON.parse hides', () => {
  const line = '{"level":30,"connection":"inbox","msg":"x","nested":{"a":1,"b":{"c":1,"c":2}},"connection":"inbox"}';
  assert.equal((JSON.parse(line) as { connection: string }).connection, 'inbox');
  assert.deepEqual(duplicateKeys(line), ['$.nested.b.c', '$.connection']);
  assert.deepEqual(duplicateKeys('{"a":[{"x":1},{"x":2}],"s":"\\"x\\":1,\\"x\\":2"}'), []);
});

test('no line of a service run repeats a key', async () => {
  const lines: string[] = [];
  let partial = '';
  const destination = new Writable({
    write(chunk, _encoding, done) {
      const text = partial + String(chunk);
      const parts = text.split('\n');
      partial = parts.pop()!;
      lines.push(...parts.filter(Boolean));
      done();
    },
  });
  const log = createLogger({ level: 'trace', destination });
  const imapUser = await dovecot.addUser('logs-imap', 'pw-logs-imap');
  const popUser = await dovecot.addUser('logs-pop', 'pw-logs-pop');
  await dovecot.deliverMany(popUser.name, [makeEmail({ subject: 'pop one', text: 'one' }).raw]);
  const config = testConfig(
    ws,
    [
      imapConnection(dovecot, imapUser, { name: 'imap-idle', pollingInterval: '1h' }),
      pop3Connection(dovecot, popUser, { name: 'pop', pollingInterval: '1h' }),
      imapConnection(dovecot, { name: imapUser.name, password: 'wrong' }, { name: 'refused', pollingInterval: '1h' }),
    ],
    { api: { listen: '127.0.0.1:0' } },
  );
  const service = await PostroomService.open({ config, log, mode: 'service' });
  try {
    await service.start();
    await waitFor('IDLE to watch', () => lines.some((line) => line.includes('IDLE: watching')), 20_000);
    await dovecot.deliverMany(imapUser.name, [
      makeEmail({ subject: 'imap one', text: 'one', attachments: [{ filename: 'a.txt', contentType: 'text/plain', content: Buffer.from('attached') }] }).raw,
    ]);
    await waitFor('both emails delivered', async () => (await readDelivered(ws.outDir)).length >= 3, 30_000);
    await waitFor('the refused login logged', () => lines.some((line) => line.includes('"level":50')), 20_000);
  } finally {
    await service.stop({ timeoutMs: 5_000 });
  }
  if (partial) lines.push(partial);
  assert.ok(lines.length > 5, `the run logged (${lines.length} lines)`);
  assert.ok(
    lines.some((line) => line.includes('"connection":"imap-idle"')),
    'lines carry the connection bound by the caller',
  );
  const repeated = lines.map((line) => ({ line, keys: duplicateKeys(line) })).filter(({ keys }) => keys.length > 0);
  assert.deepEqual(repeated, [], 'log lines with a key written twice');
});
