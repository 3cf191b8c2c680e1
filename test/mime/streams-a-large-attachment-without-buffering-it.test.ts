/**
 * A 100 MB attachment must stream through: parser and content store hold a few buffers at a
 * time, never the attachment. Measured in a child process (this same file, run with
 * LARGE_SPLIT_CHILD set) so that the test runner's own memory does not blur the numbers.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { splitEmail } from '../../src/mime/split-email.ts';
import { createFsContentStore } from '../../src/store/content/fs-content-store.ts';
import { LARGE_ATTACHMENT_NAME, largeAttachmentEmail, largeAttachmentSha256, makeEmail } from '../support/corpus.ts';

const ATTACHMENT_BYTES = 100 * 1024 * 1024;
/** The budget the brief sets: far below the attachment, above what the runtime itself may take. */
const MAX_RSS_GROWTH_BYTES = 80 * 1024 * 1024;
const CHILD_FLAG = 'LARGE_SPLIT_CHILD';
/** Peak RSS is sampled this often in the child, in addition to the kernel's own high-water mark. */
const SAMPLE_INTERVAL_MS = 20;

interface ChildReport {
  parts: Array<{ kind: string; filename: string; size: number; sha256: string }>;
  baselineRss: number;
  peakRss: number;
}

async function child(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-large-'));
  try {
    const content = createFsContentStore(dir);
    const options = { sendMessageBody: true, sendAttachments: true };
    // Warm up: load and JIT the code paths so the baseline includes them.
    await splitEmail(Readable.from([makeEmail({ subject: 'warm-up', text: 'hi\n' }).raw]), options, content);
    const baselineRss = process.memoryUsage().rss;
    let peakRss = baselineRss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), SAMPLE_INTERVAL_MS);
    const result = await splitEmail(largeAttachmentEmail(ATTACHMENT_BYTES), { ...options, reopen: () => largeAttachmentEmail(ATTACHMENT_BYTES) }, content);
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);
    const report: ChildReport = {
      parts: result.parts.map(({ kind, filename, size, sha256 }) => ({ kind, filename, size, sha256 })),
      baselineRss,
      peakRss,
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.env[CHILD_FLAG]) {
  await child();
} else {
  test('streams a 100 MB attachment into the content store without buffering it', { timeout: 180_000 }, async (t) => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
      env: { ...process.env, [CHILD_FLAG]: '1' },
      maxBuffer: 1024 * 1024,
    });
    const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as ChildReport;
    const attachment = report.parts.find((part) => part.kind === 'attachment');
    assert.equal(attachment?.filename, LARGE_ATTACHMENT_NAME);
    assert.equal(attachment?.size, ATTACHMENT_BYTES);
    assert.equal(attachment?.sha256, largeAttachmentSha256(ATTACHMENT_BYTES));
    const growth = report.peakRss - report.baselineRss;
    t.diagnostic(`RSS growth ${(growth / 1024 / 1024).toFixed(1)} MB`);
    assert.ok(growth < MAX_RSS_GROWTH_BYTES, `RSS grew by ${(growth / 1024 / 1024).toFixed(1)} MB`);
  });
}
