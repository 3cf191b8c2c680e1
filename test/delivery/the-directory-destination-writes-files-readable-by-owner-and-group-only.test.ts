/**
 * Delivered files carry whole emails: by default `.data` and `.json` are 0640 (the owner and a
 * pipeline reading as a member of the group, nobody else), whatever the umask; `fileMode` sets
 * another mode, and the config refuses a mode that is not one.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { destinationSchema } from '../../src/config/schema.ts';
import { makeDestination, outbox } from './delivery-kit.ts';

const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

describe('modes of delivered files', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  for (const [label, fileMode, expected] of [
    ['0640 by default', undefined, 0o640],
    ['fileMode "0600"', '0600', 0o600],
    ['fileMode 0o644', 0o644, 0o644],
  ] as const) {
    it(`writes .data and .json ${label}`, async () => {
      const box = await outbox();
      try {
        const root = await mkdtemp(join(tmpdir(), 'postroom-file-mode-'));
        dirs.push(root);
        const out = join(root, 'out');
        const [envelope] = await box.enqueue('out', [{ content: Buffer.from('an email body') }]);
        const options = { type: 'directory', path: out, ...(fileMode === undefined ? {} : { fileMode }) };
        await box.loop({ out: makeDestination('out', options) }).deliverDue();
        const modes = await Promise.all(['data', 'json'].map((ext) => modeOf(join(out, `${envelope!.id}.${ext}`))));
        assert.deepEqual(
          modes.map((m) => m.toString(8)),
          [expected.toString(8), expected.toString(8)],
        );
      } finally {
        await box.dispose();
      }
    });
  }

  it('refuses a fileMode that is not a file mode, naming the field', () => {
    for (const fileMode of ['rw-r-----', 640, '0o1777']) {
      const parsed = destinationSchema.safeParse({ type: 'directory', path: '/tmp/x', fileMode });
      assert.equal(parsed.success, false, String(fileMode));
      assert.deepEqual(parsed.error?.issues[0]?.path, ['fileMode']);
    }
  });
});
