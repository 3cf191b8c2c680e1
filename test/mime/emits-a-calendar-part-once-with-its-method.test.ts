import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mime, readPart, split, type TempStore, tempStore } from './mime-test-kit.ts';

const ICS = (method: string): string => mime('BEGIN:VCALENDAR', 'VERSION:2.0', method, 'BEGIN:VEVENT', 'UID:1', 'END:VEVENT', 'END:VCALENDAR', '');

function alternative(calendarHeaders: string[], ics: string): string {
  return mime(
    'From: a@postroom.test',
    'Subject: invite',
    'Content-Type: multipart/alternative; boundary=A',
    '',
    '--A',
    'Content-Type: text/plain',
    '',
    'You are invited.',
    '--A',
    ...calendarHeaders,
    '',
    ics,
    '--A--',
    '',
  );
}

describe('emits a calendar part once, with its method', () => {
  let store: TempStore;
  before(async () => {
    store = await tempStore();
  });
  after(() => store.dispose());

  test('text/calendar in an alternative: one attachment, not a second body', async () => {
    const ics = ICS('METHOD:REQUEST');
    const { parts } = await split(alternative(['Content-Type: text/calendar; charset=utf-8; method=REQUEST'], ics), store.content);
    assert.deepEqual(
      parts.map((part) => [part.kind, part.filename, part.contentType, part.method]),
      [
        ['body', 'body.txt', 'text/plain; charset=utf-8', undefined],
        ['attachment', 'invite.ics', 'text/calendar; charset=utf-8; method=REQUEST', 'REQUEST'],
      ],
    );
    assert.equal((await readPart(store.content, parts[0]?.contentRef ?? '')).toString('utf8'), 'You are invited.');
    assert.equal((await readPart(store.content, parts[1]?.contentRef ?? '')).toString('utf8'), ics);
  });

  test('the method parameter wins over the METHOD line', async () => {
    const { parts } = await split(alternative(['Content-Type: text/calendar; method=cancel'], ICS('METHOD:REQUEST')), store.content);
    assert.equal(parts[1]?.method, 'CANCEL');
  });

  test('without a parameter, the METHOD line (even folded or with parameters) gives the method', async () => {
    for (const [line, method] of [
      ['METHOD:PUBLISH', 'PUBLISH'],
      ['METHOD;X-FOO=bar:REPLY', 'REPLY'],
      ['METH\r\n OD:COUNTER', 'COUNTER'],
    ] as const) {
      const { parts } = await split(alternative(['Content-Type: text/calendar'], ICS(line)), store.content);
      assert.equal(parts[1]?.method, method, line);
    }
  });

  test('a calendar without any method has none; its own file name is kept', async () => {
    const { parts } = await split(alternative(['Content-Type: text/calendar; name="meeting.ics"'], ICS('X-NOTHING:1')), store.content);
    assert.deepEqual([parts[1]?.filename, parts[1]?.method], ['meeting.ics', undefined]);
  });

  test('an .ics file sent as octet-stream counts as a calendar', async () => {
    const { parts } = await split(
      alternative(['Content-Type: application/octet-stream', 'Content-Disposition: attachment; filename="x.ics"'], ICS('METHOD:REQUEST')),
      store.content,
    );
    assert.equal(parts[1]?.method, 'REQUEST');
  });
});
