/**
 * Peak memory of `postroom run --once` taking one email with a very large attachment: the
 * process's VmHWM while it fetches, keeps, splits and delivers it. It should not grow with the
 * attachment. The attachment is checked byte-exact at the destination.
 */

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Envelope } from '../../src/model/envelope.ts';
import { LARGE_ATTACHMENT_NAME, largeAttachmentSha256 } from '../../test/support/corpus.ts';
import type { Dovecot, DovecotUser } from '../../test/support/dovecot.ts';
import { POSTROOM_NODE_FLAGS, runMeasured } from '../child-process.ts';
import type { Mailbox } from '../mailbox.ts';
import { type Protocol, postroomWorkspace } from '../postroom-workspace.ts';
import { prepareMailbox } from './drain.ts';

/** How the CLI is started: from a checkout (bin/postroom.js runs src/ through tsx), or built (dist/, as `npm start` runs it). */
export type CliBuild = 'checkout' | 'built';

export interface LargeEmailSample {
  cli: CliBuild;
  protocol: Protocol;
  attachmentBytes: number;
  ms: number;
  peakRssBytes: number;
}

const RUN_TIMEOUT_MS = 10 * 60_000;

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** `mailbox` holds the one large email (or nothing, for the process's own baseline). */
export async function runOnceMeasured(
  cli: { build: CliBuild; entry: string },
  protocol: Protocol,
  dovecot: Dovecot,
  user: DovecotUser,
  mailbox: Mailbox,
  attachmentBytes: number,
): Promise<LargeEmailSample> {
  await prepareMailbox(dovecot, user, mailbox);
  const ws = await postroomWorkspace(dovecot, user, protocol);
  try {
    const run = await runMeasured(process.execPath, [...POSTROOM_NODE_FLAGS, cli.entry, '--config', ws.configPath, 'run', '--once'], {
      timeoutMs: RUN_TIMEOUT_MS,
    });
    if (run.code !== 0) throw new Error(`postroom run --once (${protocol}) exited ${run.code ?? run.signal}:\n${run.stdout}\n${run.stderr.slice(-4000)}`);
    if (attachmentBytes > 0) {
      const envelopes = await Promise.all(
        (await readdir(ws.outDir))
          .filter((name) => name.endsWith('.json') && !name.startsWith('.'))
          .map(async (name) => JSON.parse(await readFile(join(ws.outDir, name), 'utf8')) as Envelope),
      );
      const large = envelopes.find((envelope) => envelope.filename === LARGE_ATTACHMENT_NAME);
      if (!large || large.size !== attachmentBytes)
        throw new Error(`the ${attachmentBytes}-byte attachment did not arrive whole (${protocol}): ${JSON.stringify(large)}`);
      if ((await sha256File(join(ws.outDir, `${large.id}.data`))) !== largeAttachmentSha256(attachmentBytes))
        throw new Error(`the large attachment arrived altered (${protocol})`);
    }
    return { cli: cli.build, protocol, attachmentBytes, ms: run.ms, peakRssBytes: run.peakRssBytes };
  } finally {
    await ws.dispose();
  }
}
