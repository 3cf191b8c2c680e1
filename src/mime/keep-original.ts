/**
 * The fallback that keeps an email nobody could split: the whole raw email as one part of kind
 * 'original', so it is delivered (or dead-lettered) as it came instead of being lost.
 */
import type { Readable } from 'node:stream';
import type { ContentStore, WrittenContent } from '../model/content-store.ts';
import { ORIGINAL_NAME } from './file-names.ts';
import type { SplitPart } from './split-part.ts';

export const ORIGINAL_PART_INDEX = 0;
/**
 * The whole email kept in addition to the parts split out of it (more parts than the cap): an
 * index no split part can have (attachments count from 1, TNEF children stay below 2^31), the
 * largest a 32-bit integer column holds, so its pipeline message id is its own.
 */
export const ORIGINAL_ALONGSIDE_PART_INDEX = 2_147_483_647;
const ORIGINAL_CONTENT_TYPE = 'message/rfc822';

/** Where the original comes from if it is needed, and how to let go of it if it is not. */
export interface OriginalSource {
  /** The raw email to parse: the caller's stream, or a fresh read of the spooled copy. */
  readonly input: Readable;
  /** The raw email's size, when it is known before parsing (it was spooled). */
  readonly size: number | undefined;
  keep(): Promise<WrittenContent>;
  discard(): Promise<void>;
}

/**
 * With `reopen`, the raw email is parsed straight from `raw` and read again only if needed.
 * Without it, `raw` can be read once only, so it is first copied into the content store
 * (one extra write of the email) and parsed from there.
 */
export async function originalSource(raw: Readable, reopen: (() => Readable) | undefined, content: ContentStore): Promise<OriginalSource> {
  if (reopen) {
    return { input: raw, size: undefined, keep: () => content.write(reopen()), discard: async () => {} };
  }
  const spooled = await content.write(raw);
  return {
    input: content.open(spooled.ref),
    size: spooled.size,
    keep: async () => spooled,
    discard: () => content.remove(spooled.ref),
  };
}

/** `parseError` says why the email could not be split; an encrypted email has none (it is whole by design). */
export function originalPart(written: WrittenContent, parseError: string | undefined, partIndex = ORIGINAL_PART_INDEX): SplitPart {
  return {
    kind: 'original',
    partIndex,
    filename: ORIGINAL_NAME,
    contentType: ORIGINAL_CONTENT_TYPE,
    contentRef: written.ref,
    size: written.size,
    sha256: written.sha256,
    ...(parseError === undefined ? {} : { parseError }),
  };
}
