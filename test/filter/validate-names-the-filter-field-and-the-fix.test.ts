import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { runCli, writeConfigFile } from '../support/cli.ts';
import { type Workspace, workspace } from '../support/postroom.ts';

let ws: Workspace;
before(async () => {
  ws = await workspace();
});
after(async () => ws?.dispose());

it('names each wrong filter, filtered and routes field with its line and the fix, and exits 2', async () => {
  const path = await writeConfigFile(
    ws.dir,
    [
      'destinations:',
      '  files: { type: directory, path: ./out }',
      'connections:',
      '  - name: invoices',
      '    hostType: imap',
      '    host: imap.example.com',
      '    username: invoices',
      '    password: pw',
      '    filter:',
      '      subject: ["/(unclosed/"]',
      '      maxSize: 25 furlongs',
      '      autoReplies: drop',
      '    filtered: { moveTo: "" }',
      '  - name: legacy',
      '    hostType: pop3',
      '    host: pop.example.com',
      '    username: legacy',
      '    password: pw',
      '    filtered: markRead',
      '    filter: { minSize: 2MB, maxSize: 1MB }',
      '',
    ].join('\n'),
    'filters.yaml',
  );
  const result = await runCli(['--config', path, 'validate']);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /filters\.yaml:10: connections\[0\]\.filter\.subject\[0\]: \/\(unclosed\/ is not a regular expression .*write \/regex\/flags/);
  assert.match(result.stderr, /connections\[0\]\.filter\.maxSize: "25 furlongs" is not a size: write a number with a unit, e\.g\. 500KB, 25MB/);
  assert.match(result.stderr, /connections\[0\]\.filter\.autoReplies: use skip \(leave them out\) or include/);
  assert.match(result.stderr, /filters\.yaml:13: connections\[0\]\.filtered\.moveTo: name the folder/);
  assert.match(result.stderr, /filters\.yaml:19: connections\[1\]\.filtered: POP3 has no read flag and no folders: use filtered: leave .* or filtered: delete/);
  assert.match(result.stderr, /connections\[1\]\.filter\.minSize: minSize \(2000000 bytes\) is above maxSize \(1000000 bytes\)/);
});

it('names a route destination that does not exist, with its line', async () => {
  const path = await writeConfigFile(
    ws.dir,
    [
      'destinations:',
      '  files: { type: directory, path: ./out }',
      'connections:',
      '  - name: orders',
      '    hostType: imap',
      '    host: imap.example.com',
      '    username: orders',
      '    password: pw',
      '    routes:',
      '      - when: { kind: attachment, contentType: application/pdf }',
      '        destination: pdf-queue',
      '',
    ].join('\n'),
    'routes.yaml',
  );
  const result = await runCli(['--config', path, 'validate']);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /routes\.yaml:11: connections\[0\]\.routes\[0\]\.destination: no destination is named "pdf-queue"; defined: files/);
});

it('refuses filterOnServer: true where it cannot be honoured, with its line and the fix', async () => {
  const path = await writeConfigFile(
    ws.dir,
    [
      'destinations:',
      '  files: { type: directory, path: ./out }',
      'connections:',
      '  - name: invoices',
      '    hostType: imap',
      '    host: imap.example.com',
      '    username: invoices',
      '    password: pw',
      '    filter: { from: "*@supplier.example" }',
      '    filtered: markRead',
      '    filterOnServer: true',
      '',
    ].join('\n'),
    'on-server.yaml',
  );
  const result = await runCli(['--config', path, 'validate']);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /on-server\.yaml:11: connections\[0\]\.filterOnServer: needs filtered: leave: .*set filtered: leave, or remove filterOnServer/);
});

it("says what each IMAP filter pre-selects with the server's SEARCH and what only Postroom judges", async () => {
  const connection = (name: string, extra: string[]) => [
    `  - name: ${name}`,
    '    hostType: imap',
    '    host: imap.example.com',
    `    username: ${name}`,
    '    password: pw',
    ...extra,
  ];
  const path = await writeConfigFile(
    ws.dir,
    [
      'destinations:',
      '  files: { type: directory, path: ./out }',
      'connections:',
      ...connection('invoices', [
        '    filter:',
        '      from: ["*@supplier.example", "billing@*"]',
        '      subject: ["Invoice *", "/^Rechnung/i"]',
        '      maxSize: 25MB',
      ]),
      ...connection('marked', ['    filter: { from: "*@supplier.example" }', '    filtered: markRead']),
      ...connection('here', ['    filter: { from: "*@supplier.example" }', '    filterOnServer: false']),
      ...connection('plain', []),
      '',
    ].join('\n'),
    'pre-selection.yaml',
  );
  const result = await runCli(['--config', path, 'validate']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stdout,
    /connection invoices: .*\n {2}filter: pre-selected on the server \(from: SEARCH FROM "@supplier\.example" or FROM "billing@"; maxSize: SEARCH SMALLER 25000001\), what it finds judged again by Postroom; judged by Postroom only: subject \("\/\^Rechnung\/i" is a \/regex\/, which SEARCH cannot express\)\n/,
  );
  assert.match(result.stdout, /connection marked: .*\n {2}filter: every email judged by Postroom \(filtered: markRead acts on every email left out/);
  assert.match(result.stdout, /connection here: .*\n {2}filter: every email judged by Postroom \(filterOnServer: false\)\n/);
  assert.match(result.stdout, /connection plain: [^\n]*\n(?! {2}filter)/, 'nothing is said of a connection without a filter');
});
