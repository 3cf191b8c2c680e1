/**
 * TNEF (`winmail.dat`, application/ms-tnef): Outlook wraps attachments in it. This reads the
 * attachments back out, following MS-OXTNEF: a signature, then attribute records
 * (level, id, length, data, checksum). Each attachment starts with attAttachRendData; its short
 * name is attAttachTitle, its bytes attAttachData, and its long name, when there is one,
 * PR_ATTACH_LONG_FILENAME inside the attAttachment MAPI property block. An attached Outlook item
 * (an email dragged into another, PR_ATTACH_METHOD 5) has no attAttachData: its
 * PR_ATTACH_DATA_OBJ holds IID_IMessage and then a whole TNEF stream of its own, read the same way.
 * The message level gives the body (attBody, and in attMsgProps PR_BODY, PR_BODY_HTML and
 * PR_RTF_COMPRESSED, see rtf.ts), the subject, sender, date and message class.
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
const LEVEL_MESSAGE = 0x01;
const LEVEL_ATTACHMENT = 0x02;
const ATT_ATTACH_REND_DATA = 0x00069002;
const ATT_ATTACH_TITLE = 0x00018010;
const ATT_ATTACH_DATA = 0x0006800f;
const ATT_ATTACHMENT = 0x00069005;
const ATT_SUBJECT = 0x00018004;
const ATT_DATE_SENT = 0x00038005;
const ATT_MESSAGE_CLASS = 0x00078008;
const ATT_BODY = 0x0002800c;
const ATT_MSG_PROPS = 0x00069003;
const ATT_OEM_CODEPAGE = 0x00069007;
/** MAPI property ids (MS-OXPROPS). */
const PID_ATTACH_LONG_FILENAME = 0x3707;
const PID_ATTACH_DATA_OBJECT = 0x3701;
const PID_ATTACH_METHOD = 0x3705;
const PID_DISPLAY_NAME = 0x3001;
const PID_SUBJECT = 0x0037;
const PID_MESSAGE_CLASS = 0x001a;
const PID_BODY = 0x1000;
const PID_BODY_HTML = 0x1013;
const PID_RTF_COMPRESSED = 0x1009;
const PID_TRANSPORT_HEADERS = 0x007d;
const PID_INTERNET_MESSAGE_ID = 0x1035;
const PID_SENDER_NAME = 0x0c1a;
const PID_SENDER_EMAIL = 0x0c1f;
const PID_SENT_REPRESENTING_NAME = 0x0042;
const PID_SENT_REPRESENTING_EMAIL = 0x0065;
const PID_CLIENT_SUBMIT_TIME = 0x0039;
const PID_INTERNET_CPID = 0x3fde;
/** PR_ATTACH_METHOD: the attachment is an Outlook item (ATTACH_EMBEDDED_MSG). */
const ATTACH_EMBEDDED_MESSAGE = 5;
/** IID_IMessage {00020307-0000-0000-C000-000000000046}, as its bytes start a PT_OBJECT value that holds a message. */
const IID_IMESSAGE = Buffer.from('0703020000000000c000000000000046', 'hex');
/** Outlook items inside Outlook items: beyond this depth they are skipped. */
const MAX_MESSAGE_DEPTH = 4;
const PT_LONG = 0x0003;
const PT_SYSTIME = 0x0040;
const PT_BINARY = 0x0102;
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

/** An Outlook item attached inside the TNEF (an email dragged into an email). */
export interface TnefEmbeddedMessage {
  /** The attachment's display name, if it had one (Outlook uses the item's subject). */
  title?: string;
  message: TnefMessage;
}

/** What a TNEF stream holds at its message level and below. */
export interface TnefMessage {
  attachments: TnefAttachment[];
  messages: TnefEmbeddedMessage[];
  messageClass?: string;
  subject?: string;
  /** "Name <address>" or the address alone. */
  from?: string;
  /** ISO 8601. */
  date?: string;
  messageId?: string;
  /** PR_TRANSPORT_MESSAGE_HEADERS: the Internet headers the item arrived with. */
  transportHeaders?: string;
  text?: string;
  html?: string;
  /** PR_RTF_COMPRESSED, still compressed (rtf.ts). */
  compressedRtf?: Buffer;
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

/**
 * Reads at most `maxAttachments` attachments and embedded messages (the cap counts both, the
 * embedded messages' own attachments not); the caller keeps winmail.dat whole in any case.
 */
export async function parseTnef(buffer: Buffer, maxAttachments = Number.POSITIVE_INFINITY): Promise<TnefMessage> {
  return parseStream(buffer, maxAttachments, new Pacer(), 0);
}

interface PendingAttachment {
  title?: string;
  longName?: string | undefined;
  displayName?: string | undefined;
  data?: Buffer;
  method?: number | undefined;
  object?: Buffer;
}

async function parseStream(buffer: Buffer, maxAttachments: number, pacer: Pacer, depth: number): Promise<TnefMessage> {
  if (buffer.length < 6 || buffer.readUInt32LE(0) !== SIGNATURE) throw new TnefError('not TNEF: the signature is missing');
  const attachments: PendingAttachment[] = [];
  const message: MessageFields = {};
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
    if (level === LEVEL_MESSAGE) {
      await messageAttribute(message, id, data, pacer);
      continue;
    }
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
      const props = await readProps(data, pacer);
      current.longName = stringProp(props, PID_ATTACH_LONG_FILENAME, message.codepage);
      current.displayName = stringProp(props, PID_DISPLAY_NAME, message.codepage);
      current.method = longProp(props, PID_ATTACH_METHOD);
      const object = props.get(PID_ATTACH_DATA_OBJECT);
      if (object) current.object = object.value;
    }
  }
  const result = finishMessage(message);
  for (const [index, pending] of attachments.entries()) {
    const embedded = await embeddedMessage(pending, maxAttachments, pacer, depth);
    if (embedded) {
      result.messages.push(embedded);
      continue;
    }
    if (pending.data === undefined) continue;
    result.attachments.push({ filename: pending.longName || pending.title || `attachment-${index + 1}.bin`, data: Buffer.from(pending.data) });
  }
  return result;
}

/** An attached Outlook item, read as a TNEF stream of its own; undefined for any other attachment. */
async function embeddedMessage(pending: PendingAttachment, maxAttachments: number, pacer: Pacer, depth: number): Promise<TnefEmbeddedMessage | undefined> {
  if (pending.method !== ATTACH_EMBEDDED_MESSAGE || !pending.object || depth + 1 >= MAX_MESSAGE_DEPTH) return undefined;
  if (!pending.object.subarray(0, IID_IMESSAGE.length).equals(IID_IMESSAGE)) return undefined;
  try {
    const message = await parseStream(pending.object.subarray(IID_IMESSAGE.length), maxAttachments, pacer, depth + 1);
    const title = pending.displayName || pending.title;
    return title ? { title, message } : { message };
  } catch (error) {
    // An unreadable item is skipped; winmail.dat itself is delivered whole anyway.
    if (error instanceof TnefError) return undefined;
    throw error;
  }
}

interface MessageFields {
  codepage?: number;
  messageClass?: string;
  subject?: string;
  date?: string | undefined;
  attBody?: Buffer;
  props?: Map<number, PropValue>;
}

async function messageAttribute(message: MessageFields, id: number, data: Buffer, pacer: Pacer): Promise<void> {
  if (id === ATT_OEM_CODEPAGE && data.length >= 4) message.codepage = data.readUInt32LE(0);
  else if (id === ATT_MESSAGE_CLASS) message.messageClass = cString(data, 'latin1');
  else if (id === ATT_SUBJECT) message.subject = decodeString(data, message.codepage);
  else if (id === ATT_BODY) message.attBody = data;
  else if (id === ATT_DATE_SENT) message.date = dtrDate(data);
  else if (id === ATT_MSG_PROPS) message.props = await readProps(data, pacer);
}

function finishMessage(fields: MessageFields): TnefMessage {
  const props = fields.props ?? new Map<number, PropValue>();
  const codepage = longProp(props, PID_INTERNET_CPID) ?? fields.codepage;
  const message: TnefMessage = { attachments: [], messages: [] };
  const messageClass = stringProp(props, PID_MESSAGE_CLASS, codepage) ?? fields.messageClass;
  if (messageClass) message.messageClass = messageClass;
  const subject = stringProp(props, PID_SUBJECT, codepage) ?? fields.subject;
  if (subject) message.subject = subject;
  const name = stringProp(props, PID_SENDER_NAME, codepage) ?? stringProp(props, PID_SENT_REPRESENTING_NAME, codepage);
  const address = stringProp(props, PID_SENDER_EMAIL, codepage) ?? stringProp(props, PID_SENT_REPRESENTING_EMAIL, codepage);
  if (address?.includes('@')) message.from = name && name !== address ? `${name} <${address}>` : address;
  const date = systimeProp(props, PID_CLIENT_SUBMIT_TIME) ?? fields.date;
  if (date) message.date = date;
  const messageId = stringProp(props, PID_INTERNET_MESSAGE_ID, codepage);
  if (messageId) message.messageId = messageId;
  const transportHeaders = stringProp(props, PID_TRANSPORT_HEADERS, codepage);
  if (transportHeaders) message.transportHeaders = transportHeaders;
  const text = stringProp(props, PID_BODY, codepage) ?? (fields.attBody ? decodeString(fields.attBody, codepage) : undefined);
  if (text) message.text = text;
  const html = props.get(PID_BODY_HTML);
  if (html) message.html = html.type === PT_UNICODE ? cString(html.value, 'utf16le') : decodeString(html.value, codepage);
  const rtf = props.get(PID_RTF_COMPRESSED);
  if (rtf && rtf.type === PT_BINARY) message.compressedRtf = Buffer.from(rtf.value);
  return message;
}

/** attDateSent: a DTR, seven 16-bit fields: year, month, day, hour, minute, second, day of week. */
function dtrDate(data: Buffer): string | undefined {
  if (data.length < 12) return undefined;
  const [year, month, day, hour, minute, second] = [0, 2, 4, 6, 8, 10].map((at) => data.readUInt16LE(at)) as [number, number, number, number, number, number];
  const time = Date.UTC(year, month - 1, day, hour, minute, second);
  return Number.isNaN(time) || year < 1970 ? undefined : new Date(time).toISOString();
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

/** One single-valued MAPI property: its type and its value's bytes. */
interface PropValue {
  type: number;
  value: Buffer;
}

/**
 * The single-valued, non-named properties of a MAPI property block (attMsgProps, attAttachment).
 * A malformed block gives what was read before the fault: a name or a body less, never a throw.
 */
async function readProps(block: Buffer, pacer: Pacer): Promise<Map<number, PropValue>> {
  const props = new Map<number, PropValue>();
  try {
    let at = 0;
    const count = block.readUInt32LE(at);
    at += 4;
    // The count comes from the file: no more properties than the block has bytes for.
    if (count > (block.length - at) / PROPERTY_HEADER_BYTES) return props;
    for (let i = 0; i < count; i++) {
      if (i % PROPERTY_SLICE === 0) await pacer.pause();
      const type = block.readUInt16LE(at);
      const pid = block.readUInt16LE(at + 2);
      at += 4;
      const named = pid >= 0x8000;
      if (named) at = skipNamedPropertyName(block, at);
      const multi = (type & 0x1000) !== 0;
      const base = type & 0x0fff;
      const values = multi ? block.readUInt32LE(at) : 1;
      if (multi) at += 4;
      const fixed = FIXED_SIZES.get(base);
      if (fixed !== undefined) {
        // Fixed-size values are skipped in one step, and only if the block holds them all.
        if (values * fixed > block.length - at) return props;
        if (!multi && !named) props.set(pid, { type: base, value: block.subarray(at, at + fixed) });
        at += values * fixed;
        continue;
      }
      if (!VARIABLE_TYPES.has(base)) return props; // a type this reader does not know
      // Each variable-size value takes at least its 4-byte length.
      if (values > (block.length - at) / 4) return props;
      for (let v = 0; v < values; v++) {
        if (v % PROPERTY_SLICE === PROPERTY_SLICE - 1) await pacer.pause();
        // Variable-size values: a count (1 unless multi-valued), then length-prefixed, padded data.
        if (!multi) at += 4;
        const size = block.readUInt32LE(at);
        at += 4;
        if (size > block.length - at) return props;
        if (!multi && !named) props.set(pid, { type: base, value: block.subarray(at, at + size) });
        at += size + ((4 - (size % 4)) % 4);
      }
    }
  } catch {
    // A malformed block only loses what comes after the fault.
  }
  return props;
}

function stringProp(props: Map<number, PropValue>, pid: number, codepage: number | undefined): string | undefined {
  const prop = props.get(pid);
  if (!prop) return undefined;
  if (prop.type === PT_UNICODE) return cString(prop.value, 'utf16le') || undefined;
  if (prop.type === PT_STRING8 || prop.type === PT_BINARY) return decodeString(prop.value, codepage) || undefined;
  return undefined;
}

function longProp(props: Map<number, PropValue>, pid: number): number | undefined {
  const prop = props.get(pid);
  return prop && prop.type === PT_LONG && prop.value.length >= 4 ? prop.value.readUInt32LE(0) : undefined;
}

/** A FILETIME (100 ns ticks since 1601) as ISO 8601. */
function systimeProp(props: Map<number, PropValue>, pid: number): string | undefined {
  const prop = props.get(pid);
  if (!prop || prop.type !== PT_SYSTIME || prop.value.length < 8) return undefined;
  const ticks = prop.value.readBigUInt64LE(0);
  const ms = Number(ticks / 10_000n) - 11_644_473_600_000;
  return Number.isFinite(ms) && ms > 0 && ms < 8.64e15 ? new Date(ms).toISOString() : undefined;
}

/** Windows code pages as TextDecoder knows them; anything else reads as Windows-1252. */
const CODEPAGES: ReadonlyMap<number, string> = new Map([
  [65001, 'utf-8'],
  [932, 'shift_jis'],
  [936, 'gbk'],
  [949, 'euc-kr'],
  [950, 'big5'],
  [874, 'windows-874'],
  [20866, 'koi8-r'],
  [28591, 'iso-8859-1'],
  [28592, 'iso-8859-2'],
  [28605, 'iso-8859-15'],
  ...[1250, 1251, 1252, 1253, 1254, 1255, 1256, 1257, 1258].map((page): [number, string] => [page, `windows-${page}`]),
]);

/** An 8-bit string in the message's code page, up to its NUL. */
export function decodeString(data: Buffer, codepage: number | undefined): string {
  const nul = data.indexOf(0);
  const bytes = nul === -1 ? data : data.subarray(0, nul);
  return codepageDecoder(codepage).decode(bytes).trim();
}

export function codepageDecoder(codepage: number | undefined): TextDecoder {
  try {
    return new TextDecoder(CODEPAGES.get(codepage ?? 1252) ?? 'windows-1252');
  } catch {
    return new TextDecoder('windows-1252');
  }
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
