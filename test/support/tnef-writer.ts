/**
 * Writes TNEF (MS-OXTNEF) and compressed RTF (MS-OXRTFCP) for the test corpus, from the
 * specifications, never from src/: records of level, id, length, data and checksum; MAPI
 * property blocks; Outlook items attached as PR_ATTACH_DATA_OBJ (IID_IMessage, then a TNEF
 * stream); and LZFu compression against the 4,096-byte dictionary with its fixed RTF prefix.
 */

const SIGNATURE = 0x223e9f78;
export const PT_LONG = 0x0003;
export const PT_SYSTIME = 0x0040;
export const PT_STRING8 = 0x001e;
export const PT_UNICODE = 0x001f;
export const PT_BINARY = 0x0102;
export const PT_OBJECT = 0x000d;
const IID_IMESSAGE = Buffer.from('0703020000000000c000000000000046', 'hex');

/** One TNEF record (MS-OXTNEF 2.1.3.3). */
export function record(level: number, id: number, data: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUInt8(level, 0);
  head.writeUInt32LE(id, 1);
  head.writeUInt32LE(data.length, 5);
  const sum = Buffer.alloc(2);
  sum.writeUInt16LE(
    data.reduce((total, byte) => (total + byte) & 0xffff, 0),
    0,
  );
  return Buffer.concat([head, data, sum]);
}

export interface Prop {
  type: number;
  id: number;
  value: Buffer | number;
}

/** A MAPI property block: count, then per property type, id and value (variable ones as count 1, length, bytes padded to 4). */
export function props(list: Prop[]): Buffer {
  const count = Buffer.alloc(4);
  count.writeUInt32LE(list.length);
  const pieces: Buffer[] = [count];
  for (const prop of list) {
    const head = Buffer.alloc(4);
    head.writeUInt16LE(prop.type, 0);
    head.writeUInt16LE(prop.id, 2);
    pieces.push(head);
    if (typeof prop.value === 'number') {
      const value = Buffer.alloc(prop.type === PT_SYSTIME ? 8 : 4);
      if (prop.type === PT_SYSTIME) value.writeBigUInt64LE(BigInt(prop.value));
      else value.writeUInt32LE(prop.value);
      pieces.push(value);
      continue;
    }
    const sizes = Buffer.alloc(8);
    sizes.writeUInt32LE(1, 0);
    sizes.writeUInt32LE(prop.value.length, 4);
    pieces.push(sizes, prop.value, Buffer.alloc((4 - (prop.value.length % 4)) % 4));
  }
  return Buffer.concat(pieces);
}

export const string8 = (text: string): Buffer => Buffer.from(`${text}\u0000`, 'latin1');
export const unicode = (text: string): Buffer => Buffer.from(`${text}\u0000`, 'utf16le');
/** A date as FILETIME: 100 ns ticks since 1601-01-01. */
export const filetime = (iso: string): number => (Date.parse(iso) + 11_644_473_600_000) * 10_000;

export interface TnefFile {
  title: string;
  longName?: string;
  data: Buffer;
}

export interface TnefSpec {
  messageClass?: string;
  /** attMsgProps. */
  messageProps?: Prop[];
  files?: TnefFile[];
  /** Outlook items attached (PR_ATTACH_METHOD 5), each a TNEF stream of its own. */
  items?: Array<{ displayName: string; tnef: Buffer }>;
}

export function tnef(spec: TnefSpec): Buffer {
  const start = Buffer.alloc(6);
  start.writeUInt32LE(SIGNATURE, 0);
  start.writeUInt16LE(0x0001, 4);
  const version = Buffer.alloc(4);
  version.writeUInt32LE(0x00010000, 0);
  const codepage = Buffer.alloc(8);
  codepage.writeUInt32LE(1252, 0);
  const records = [start, record(1, 0x00089006, version), record(1, 0x00069007, codepage)];
  if (spec.messageClass) records.push(record(1, 0x00078008, string8(spec.messageClass)));
  if (spec.messageProps) records.push(record(1, 0x00069003, props(spec.messageProps)));
  for (const file of spec.files ?? []) {
    records.push(record(2, 0x00069002, renderData()));
    records.push(record(2, 0x00018010, string8(file.title)));
    records.push(record(2, 0x0006800f, file.data));
    if (file.longName) records.push(record(2, 0x00069005, props([{ type: PT_UNICODE, id: 0x3707, value: unicode(file.longName) }])));
  }
  for (const item of spec.items ?? []) {
    records.push(record(2, 0x00069002, renderData()));
    records.push(
      record(
        2,
        0x00069005,
        props([
          { type: PT_LONG, id: 0x3705, value: 5 },
          { type: PT_STRING8, id: 0x3001, value: string8(item.displayName) },
          { type: PT_OBJECT, id: 0x3701, value: Buffer.concat([IID_IMESSAGE, item.tnef]) },
        ]),
      ),
    );
  }
  return Buffer.concat(records);
}

/** attAttachRendData: a file attachment (type 1), no position. */
function renderData(): Buffer {
  const data = Buffer.alloc(14);
  data.writeUInt16LE(1, 0);
  data.writeUInt32LE(0xffffffff, 2);
  return data;
}

// ---------------------------------------------------------------------------------------------
// Compressed RTF

const PREFIX = Buffer.from(
  '{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss \\fmodern \\fscript \\fdecor MS Sans SerifSymbolArialTimes New RomanCourier{\\colortbl\\red0\\green0\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx',
  'latin1',
);

/** CRC-32 as MS-OXRTFCP 2.1.3.2 computes it: the usual table, no inversion at either end. */
function rtfCrc(data: Buffer): number {
  let crc = 0;
  for (const byte of data) {
    let value = (crc ^ byte) & 0xff;
    for (let bit = 0; bit < 8; bit += 1) value = value & 1 ? (value >>> 1) ^ 0xedb88320 : value >>> 1;
    crc = (value ^ (crc >>> 8)) >>> 0;
  }
  return crc;
}

/** LZFu: greedy longest matches (2..17 bytes) in the dictionary, literals otherwise, then the end reference. */
export function compressRtf(rtf: Buffer): Buffer {
  const dictionary = Buffer.alloc(4096);
  PREFIX.copy(dictionary);
  let write = PREFIX.length;
  const out: number[] = [];
  let at = 0;
  let done = false;
  while (!done) {
    const controlAt = out.length;
    out.push(0);
    let control = 0;
    for (let bit = 0; bit < 8; bit += 1) {
      if (at >= rtf.length) {
        control |= 1 << bit;
        out.push((write >> 4) & 0xff, (write & 0x0f) << 4);
        done = true;
        break;
      }
      let bestLength = 0;
      let bestOffset = 0;
      for (let offset = 0; offset < 4096; offset += 1) {
        if (offset === write) continue;
        let length = 0;
        // The copied region must not run into the write position, where the decoder writes as it reads.
        while (length < 17 && at + length < rtf.length && (offset + length) % 4096 !== write && dictionary[(offset + length) % 4096] === rtf[at + length])
          length += 1;
        if (length > bestLength) [bestLength, bestOffset] = [length, offset];
      }
      if (bestLength >= 2) {
        control |= 1 << bit;
        out.push((bestOffset >> 4) & 0xff, ((bestOffset & 0x0f) << 4) | (bestLength - 2));
        for (let n = 0; n < bestLength; n += 1) {
          dictionary[write] = rtf[at + n]!;
          write = (write + 1) % 4096;
        }
        at += bestLength;
      } else {
        out.push(rtf[at]!);
        dictionary[write] = rtf[at]!;
        write = (write + 1) % 4096;
        at += 1;
      }
    }
    out[controlAt] = control;
  }
  const body = Buffer.from(out);
  const header = Buffer.alloc(16);
  header.writeUInt32LE(body.length + 12, 0);
  header.writeUInt32LE(rtf.length, 4);
  header.writeUInt32LE(0x75465a4c, 8);
  header.writeUInt32LE(rtfCrc(body), 12);
  return Buffer.concat([header, body]);
}
