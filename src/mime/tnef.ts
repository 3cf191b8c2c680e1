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
 */

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

export interface TnefAttachment {
  filename: string;
  data: Buffer;
}

export class TnefError extends Error {}

export function isTnef(contentType: string, filename: string): boolean {
  return /^application\/(vnd\.)?ms-tnef\b/i.test(contentType) || filename.toLowerCase() === 'winmail.dat';
}

export function parseTnef(buffer: Buffer): TnefAttachment[] {
  if (buffer.length < 6 || buffer.readUInt32LE(0) !== SIGNATURE) throw new TnefError('not TNEF: the signature is missing');
  const attachments: Array<{ title?: string; longName?: string; data?: Buffer }> = [];
  let offset = 6; // signature + legacy key
  while (offset < buffer.length) {
    if (offset + RECORD_OVERHEAD > buffer.length) throw new TnefError(`truncated record at byte ${offset}`);
    const level = buffer.readUInt8(offset);
    const id = buffer.readUInt32LE(offset + 1);
    const length = buffer.readUInt32LE(offset + 5);
    const start = offset + 9;
    const end = start + length;
    if (end + 2 > buffer.length) throw new TnefError(`record at byte ${offset} runs past the end`);
    const data = buffer.subarray(start, end);
    if (checksum(data) !== buffer.readUInt16LE(end)) throw new TnefError(`bad checksum at byte ${offset}`);
    offset = end + 2;
    if (level !== LEVEL_ATTACHMENT) continue;
    if (id === ATT_ATTACH_REND_DATA) attachments.push({});
    const current = attachments[attachments.length - 1];
    if (!current) continue;
    if (id === ATT_ATTACH_TITLE) current.title = cString(data, 'latin1');
    else if (id === ATT_ATTACH_DATA) current.data = data;
    else if (id === ATT_ATTACHMENT) {
      const longName = longFilename(data);
      if (longName) current.longName = longName;
    }
  }
  return attachments
    .filter((a): a is { title?: string; longName?: string; data: Buffer } => a.data !== undefined)
    .map((a, index) => ({ filename: a.longName || a.title || `attachment-${index + 1}.bin`, data: Buffer.from(a.data) }));
}

function checksum(data: Buffer): number {
  let sum = 0;
  for (const byte of data) sum = (sum + byte) & 0xffff;
  return sum;
}

function cString(data: Buffer, encoding: 'latin1' | 'utf16le'): string {
  const text = data.toString(encoding);
  const nul = text.indexOf('\u0000');
  return (nul === -1 ? text : text.slice(0, nul)).trim();
}

/** PR_ATTACH_LONG_FILENAME from an attAttachment MAPI property block, or undefined. */
function longFilename(block: Buffer): string | undefined {
  try {
    let at = 0;
    const count = block.readUInt32LE(at);
    at += 4;
    for (let i = 0; i < count; i++) {
      const type = block.readUInt16LE(at);
      const pid = block.readUInt16LE(at + 2);
      at += 4;
      if (pid >= 0x8000) at = skipNamedPropertyName(block, at);
      const multi = (type & 0x1000) !== 0;
      const base = type & 0x0fff;
      const values = multi ? block.readUInt32LE(at) : 1;
      if (multi) at += 4;
      for (let v = 0; v < values; v++) {
        const fixed = FIXED_SIZES.get(base);
        if (fixed !== undefined) {
          if (pid === PID_ATTACH_LONG_FILENAME) return undefined;
          at += fixed;
          continue;
        }
        if (!VARIABLE_TYPES.has(base)) return undefined; // a type this reader does not know
        // Variable-size values: a count (1 unless multi-valued), then length-prefixed, padded data.
        if (!multi) at += 4;
        const size = block.readUInt32LE(at);
        at += 4;
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
