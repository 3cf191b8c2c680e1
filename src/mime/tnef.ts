/**
 * TNEF (`winmail.dat`, application/ms-tnef): Outlook wraps attachments in it. This reads the
 * attachments back out, following MS-OXTNEF: a signature, then attribute records
 * (level, id, length, data, checksum). Each attachment starts with attAttachRendData; its short
 * name is attAttachTitle, its bytes attAttachData, and its long name, when there is one,
 * PR_ATTACH_LONG_FILENAME inside the attAttachment MAPI property block.
 *
 * Written here because the one npm library (node-tnef) patches String.prototype, logs to stdout
 * and has length bugs. Anything this reader does not understand makes it give up; the caller
 * then keeps winmail.dat whole, so nothing is lost.
 *
 * The file is hostile input: every count and length in it is checked against the bytes actually
 * left before it is used, so no loop runs more often than the file has bytes for, and the reader
 * yields to the event loop every few milliseconds (polls, deliveries, the API and lease renewals
 * go on while a large winmail.dat is read).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

const SIGNATURE = 0x223e9f78;
const LEVEL_ATTACHMENT = 0x02;
const ATT_ATTACH_REND_DATA = 0x00069002;
const ATT_ATTACH_TITLE = 0x00018010;
const ATT_ATTACH_DATA = 0x0006800f;
const ATT_ATTACHMENT = 0x00069005;
/** PR_ATTACH_LONG_FILENAME's property id. */
const PID_ATTACH_LONG_FILENAME = 0x3707;
const PT_STRING8 = 0x001e;
const PT_UNICODE = 0x001f;
/** A record header is level (1) + id (4) + length (4); the checksum follows the data (2). */
const RECORD_OVERHEAD = 11;
/** Each MAPI property starts with type (2) + id (2): a block of n bytes holds at most n / 4 of them. */
const PROPERTY_HEADER_BYTES = 4;
/** Longest the reader works without letting other work run; well under a lease renewal or an API reply. */
const MAX_BUSY_MS = 5;
/** Checksum this many bytes between looks at the clock (a few hundred microseconds of work). */
const CHECKSUM_SLICE_BYTES = 256 * 1024;
/** Properties skipped between looks at the clock. */
const PROPERTY_SLICE = 4096;

export interface TnefAttachment {
  filename: string;
  data: Buffer;
}

export class TnefError extends Error {}

export function isTnef(contentType: string, filename: string): boolean {
  return /^application\/(vnd\.)?ms-tnef\b/i.test(contentType) || filename.toLowerCase() === 'winmail.dat';
}

/** Yields to the event loop once the reader has worked for MAX_BUSY_MS since it last did. */
class Pacer {
  #since = performance.now();

  async pause(): Promise<void> {
    if (performance.now() - this.#since < MAX_BUSY_MS) return;
    await nextTurn();
    this.#since = performance.now();
  }
}

/** Reads at most `maxAttachments` attachments; the caller keeps winmail.dat whole in any case. */
export async function parseTnef(buffer: Buffer, maxAttachments = Number.POSITIVE_INFINITY): Promise<TnefAttachment[]> {
  if (buffer.length < 6 || buffer.readUInt32LE(0) !== SIGNATURE) throw new TnefError('not TNEF: the signature is missing');
  const pacer = new Pacer();
  const attachments: Array<{ title?: string; longName?: string; data?: Buffer }> = [];
  let offset = 6; // signature + legacy key
  while (offset < buffer.length) {
    await pacer.pause();
    if (offset + RECORD_OVERHEAD > buffer.length) throw new TnefError(`truncated record at byte ${offset}`);
    const level = buffer.readUInt8(offset);
    const id = buffer.readUInt32LE(offset + 1);
    const length = buffer.readUInt32LE(offset + 5);
    const start = offset + 9;
    const end = start + length;
    if (end + 2 > buffer.length) throw new TnefError(`record at byte ${offset} runs past the end`);
    const data = buffer.subarray(start, end);
    if ((await checksum(data, pacer)) !== buffer.readUInt16LE(end)) throw new TnefError(`bad checksum at byte ${offset}`);
    offset = end + 2;
    if (level !== LEVEL_ATTACHMENT) continue;
    if (id === ATT_ATTACH_REND_DATA) {
      // Beyond the cap nothing more is unpacked; what came before is complete.
      if (attachments.length >= maxAttachments) break;
      attachments.push({});
    }
    const current = attachments[attachments.length - 1];
    if (!current) continue;
    if (id === ATT_ATTACH_TITLE) current.title = cString(data, 'latin1');
    else if (id === ATT_ATTACH_DATA) current.data = data;
    else if (id === ATT_ATTACHMENT) {
      const longName = await longFilename(data, pacer);
      if (longName) current.longName = longName;
    }
  }
  return attachments
    .filter((a): a is { title?: string; longName?: string; data: Buffer } => a.data !== undefined)
    .map((a, index) => ({ filename: a.longName || a.title || `attachment-${index + 1}.bin`, data: Buffer.from(a.data) }));
}

async function checksum(data: Buffer, pacer: Pacer): Promise<number> {
  let sum = 0;
  for (let start = 0; start < data.length; start += CHECKSUM_SLICE_BYTES) {
    const end = Math.min(start + CHECKSUM_SLICE_BYTES, data.length);
    for (let index = start; index < end; index += 1) sum = (sum + data[index]!) & 0xffff;
    await pacer.pause();
  }
  return sum;
}

function cString(data: Buffer, encoding: 'latin1' | 'utf16le'): string {
  const text = data.toString(encoding);
  const nul = text.indexOf('\u0000');
  return (nul === -1 ? text : text.slice(0, nul)).trim();
}

/** PR_ATTACH_LONG_FILENAME from an attAttachment MAPI property block, or undefined. */
async function longFilename(block: Buffer, pacer: Pacer): Promise<string | undefined> {
  try {
    let at = 0;
    const count = block.readUInt32LE(at);
    at += 4;
    // The count comes from the file: no more properties than the block has bytes for.
    if (count > (block.length - at) / PROPERTY_HEADER_BYTES) return undefined;
    for (let i = 0; i < count; i++) {
      if (i % PROPERTY_SLICE === 0) await pacer.pause();
      const type = block.readUInt16LE(at);
      const pid = block.readUInt16LE(at + 2);
      at += 4;
      if (pid >= 0x8000) at = skipNamedPropertyName(block, at);
      const multi = (type & 0x1000) !== 0;
      const base = type & 0x0fff;
      const values = multi ? block.readUInt32LE(at) : 1;
      if (multi) at += 4;
      const fixed = FIXED_SIZES.get(base);
      if (fixed !== undefined) {
        if (pid === PID_ATTACH_LONG_FILENAME) return undefined;
        // Fixed-size values are skipped in one step, and only if the block holds them all.
        if (values * fixed > block.length - at) return undefined;
        at += values * fixed;
        continue;
      }
      if (!VARIABLE_TYPES.has(base)) return undefined; // a type this reader does not know
      // Each variable-size value takes at least its 4-byte length.
      if (values > (block.length - at) / 4) return undefined;
      for (let v = 0; v < values; v++) {
        if (v % PROPERTY_SLICE === PROPERTY_SLICE - 1) await pacer.pause();
        // Variable-size values: a count (1 unless multi-valued), then length-prefixed, padded data.
        if (!multi) at += 4;
        const size = block.readUInt32LE(at);
        at += 4;
        if (size > block.length - at) return undefined;
        const value = block.subarray(at, at + size);
        at += size + ((4 - (size % 4)) % 4);
        if (pid === PID_ATTACH_LONG_FILENAME && !multi) {
          if (base === PT_UNICODE) return cString(value, 'utf16le');
          if (base === PT_STRING8) return cString(value, 'latin1');
        }
      }
    }
  } catch {
    // A malformed block only loses the long name.
  }
  return undefined;
}

function skipNamedPropertyName(block: Buffer, at: number): number {
  at += 16; // property set GUID
  const kind = block.readUInt32LE(at);
  at += 4;
  if (kind === 0) return at + 4; // numeric id
  const size = block.readUInt32LE(at);
  return at + 4 + size + ((4 - (size % 4)) % 4);
}

/** Bytes each fixed-size MAPI value takes in TNEF (padded to 4). */
const FIXED_SIZES = new Map<number, number>([
  [0x0002, 4], // PT_I2 (2, padded)
  [0x0003, 4], // PT_LONG
  [0x0004, 4], // PT_R4
  [0x0005, 8], // PT_DOUBLE
  [0x0006, 8], // PT_CURRENCY
  [0x0007, 8], // PT_APPTIME
  [0x000a, 4], // PT_ERROR
  [0x000b, 4], // PT_BOOLEAN (2, padded)
  [0x0014, 8], // PT_I8
  [0x0040, 8], // PT_SYSTIME
  [0x0048, 16], // PT_CLSID
]);
/** PT_OBJECT, PT_STRING8, PT_UNICODE, PT_BINARY. */
const VARIABLE_TYPES = new Set([0x000d, PT_STRING8, PT_UNICODE, 0x0102]);
