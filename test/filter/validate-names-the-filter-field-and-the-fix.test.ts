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
