/**
 * A seeded fuzz test of the splitter: a fixed number of random mutations of the corpus emails
 * (bytes flipped, ranges cut, doubled or spliced from another email, headers swapped for the
 * types and encodings that take special paths: uuencode, reports, S/MIME, TNEF, AppleDouble),
 * each split as the engine splits them (every fourth as a large email, whose body is streamed). Every one must come back within a time bound, split or
 * kept whole as the original, byte-exact, leaving no stray file in the content store, and the
 * process's memory must stay bounded. The seed is printed on failure;
 * POSTROOM_FUZZ_SEED=<n> replays a run, POSTROOM_FUZZ_CASES=<n> runs more cases, and
 * POSTROOM_FUZZ_DUMP=<case> writes that case's email to <tmpdir>/postroom-fuzz-case.eml.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { TEXT_IN_MEMORY_BYTES } from '../../src/mime/streamed-text.ts';
import { buildCorpus } from '../support/corpus.ts';
import { at, generator, MUTATIONS } from '../support/corpus-mutations.ts';
import { buildRealWorldCorpus } from '../support/real-world-corpus.ts';
import { readPart, split, type TempStore, tempStore } from './mime-test-kit.ts';

const SEED = Number(process.env.POSTROOM_FUZZ_SEED ?? 20261202);
const CASES = Number(process.env.POSTROOM_FUZZ_CASES ?? 150);
/** One email of a few KB splits in milliseconds; a second means something loops. */
const HANG_BOUND_MS = 2000;
/** The emails are a few KB each: a splitter that holds on to anything grows far less than this. */
const MAX_RSS_GROWTH_BYTES = 200 * 1024 * 1024;

/** Nothing but whitespace after the header block (or no header block end at all is not this). */
function headersOnly(raw: Buffer): boolean {
  const text = raw.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  return end !== -1 && text.slice(end).trim() === '';
}

let store: TempStore;
before(async () => {
  store = await tempStore();
});
after(async () => store?.dispose());

it(`splits ${CASES} random mutations of the corpus without a crash, a hang or a loss (seed ${SEED})`, async () => {
  const corpus = [...buildCorpus(), ...buildRealWorldCorpus()].map((email) => email.raw);
  const random = generator(SEED);
  const startRss = process.memoryUsage().rss;
  let peakRss = startRss;
  const outcomes = { split: 0, original: 0, empty: 0 };
  for (let index = 0; index < CASES; index += 1) {
    const base = corpus[at(random, corpus.length)]!;
    const donor = corpus[at(random, corpus.length)]!;
    let raw = base;
    for (let n = 0; n < 1 + at(random, 3); n += 1) raw = MUTATIONS[at(random, MUTATIONS.length)]!(raw, random, donor);
    const replay = `seed ${SEED}, case ${index}`;
    if (process.env.POSTROOM_FUZZ_DUMP === String(index)) await writeFile(join(tmpdir(), 'postroom-fuzz-case.eml'), raw);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`split took over ${HANG_BOUND_MS} ms (${replay})`)), HANG_BOUND_MS);
    });
    let result: Awaited<ReturnType<typeof split>> | undefined;
    try {
      // Every fourth as if it were large, so the streamed body path is fuzzed too.
      const options = index % 4 === 3 ? { size: TEXT_IN_MEMORY_BYTES + 1 } : {};
      result = await Promise.race([split(raw, store.content, options), timeout]);
    } catch (error) {
      assert.fail(`split threw (${replay}): ${error instanceof Error ? error.stack : String(error)}`);
    } finally {
      clearTimeout(timer);
    }
    const original = result!.parts.find((part) => part.kind === 'original');
    if (original) {
      assert.equal(original.sha256, createHash('sha256').update(raw).digest('hex'), `the original is the email byte for byte (${replay})`);
      outcomes.original += 1;
    } else if (result.parts.length > 0) {
      outcomes.split += 1;
    } else {
      assert.ok(headersOnly(raw), `an email with content gave no part at all (${replay})`);
      outcomes.empty += 1;
    }
    for (const part of result.parts) {
      if (index % 10 === 0) {
        const stored = createHash('sha256')
          .update(await readPart(store.content, part.contentRef))
          .digest('hex');
        assert.equal(stored, part.sha256, `${part.filename} is stored as reported (${replay})`);
      }
      await store.content.remove(part.contentRef);
    }
    assert.deepEqual(await store.files(), [], `no content file is left behind but the parts (${replay})`);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  assert.ok(peakRss - startRss < MAX_RSS_GROWTH_BYTES, `memory grew by ${Math.round((peakRss - startRss) / 1048576)} MB`);
  // The mutations reach both outcomes; a run that only ever kept originals would test little.
  assert.ok(outcomes.split > CASES / 4 && outcomes.original > 0, JSON.stringify(outcomes));
});
