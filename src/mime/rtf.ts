/**
 * The body Outlook keeps in TNEF as PR_RTF_COMPRESSED: compressed RTF (MS-OXRTFCP), which often
 * carries the original HTML or plain text encapsulated in it (MS-OXRTFEX).
 *
 * Decompression: a 16-byte header (compressed size, raw size, type 'LZFu' or 'MELA' for stored
 * uncompressed, CRC), then runs of a control byte and eight tokens, its bits read from the
 * lowest: 0 a literal byte, 1 a 16-bit big-endian reference into a 4,096-byte ring dictionary
 * (12 bits offset, 4 bits length - 2) that starts with a fixed RTF prefix. A reference to the
 * current write position ends the stream. Output is capped at the raw size the header states and
 * at MAX_RTF_BYTES, so a hostile file cannot blow up.
 *
 * De-encapsulation: RTF with \fromhtml1 holds the HTML as {\*\htmltag ...} groups plus text
 * outside \htmlrtf ... \htmlrtf0 spans; \fromtext holds plain text. Anything else is RTF proper
 * and is delivered as RTF.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { codepageDecoder } from './tnef.ts';

const COMPRESSED = 0x75465a4c; // 'LZFu'
const UNCOMPRESSED = 0x414c454d; // 'MELA'
const HEADER_BYTES = 16;
const DICTIONARY_BYTES = 4096;
/** MS-OXRTFCP 2.1.3.1.1: the dictionary's initial contents (207 bytes). */
const PREFIX = Buffer.from(
  '{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss \\fmodern \\fscript \\fdecor MS Sans SerifSymbolArialTimes New RomanCourier{\\colortbl\\red0\\green0\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx',
  'latin1',
);
/** An email body is far smaller; a claimed raw size beyond this is cut there. */
export const MAX_RTF_BYTES = 32 * 1024 * 1024;

export class RtfError extends Error {}

/** The RTF inside PR_RTF_COMPRESSED. */
export function decompressRtf(data: Buffer): Buffer {
  if (data.length < HEADER_BYTES) throw new RtfError('compressed RTF shorter than its header');
  const rawSize = Math.min(data.readUInt32LE(4), MAX_RTF_BYTES);
  const type = data.readUInt32LE(8);
  if (type === UNCOMPRESSED) return Buffer.from(data.subarray(HEADER_BYTES, HEADER_BYTES + rawSize));
  if (type !== COMPRESSED) throw new RtfError('not compressed RTF (neither LZFu nor MELA)');
  const dictionary = Buffer.alloc(DICTIONARY_BYTES);
  PREFIX.copy(dictionary);
  let write = PREFIX.length;
  const out = Buffer.alloc(rawSize);
  let written = 0;
  let at = HEADER_BYTES;
  while (at < data.length && written < rawSize) {
    const control = data[at++]!;
    for (let bit = 0; bit < 8 && at < data.length && written < rawSize; bit += 1) {
      if ((control & (1 << bit)) === 0) {
        const byte = data[at++]!;
        out[written++] = byte;
        dictionary[write] = byte;
        write = (write + 1) % DICTIONARY_BYTES;
        continue;
      }
      if (at + 1 >= data.length) return out.subarray(0, written);
      const reference = data.readUInt16BE(at);
      at += 2;
      let offset = reference >> 4;
      const length = (reference & 0x0f) + 2;
      if (offset === write) return out.subarray(0, written);
      for (let n = 0; n < length && written < rawSize; n += 1) {
        const byte = dictionary[offset]!;
        out[written++] = byte;
        dictionary[write] = byte;
        write = (write + 1) % DICTIONARY_BYTES;
        offset = (offset + 1) % DICTIONARY_BYTES;
      }
    }
  }
  return out.subarray(0, written);
}

export type Deencapsulated = { kind: 'html' | 'text'; text: string } | { kind: 'rtf' };

/** Groups whose content is never text (font and colour tables, styles, pictures, ...). */
const SKIPPED_DESTINATIONS: ReadonlySet<string> = new Set([
  'fonttbl',
  'colortbl',
  'stylesheet',
  'info',
  'pict',
  'object',
  'header',
  'footer',
  'listtable',
  'listoverridetable',
  'rsidtbl',
  'generator',
  'xmlnstbl',
  'mmathPr',
  'themedata',
  'latentstyles',
  'datastore',
  'filetbl',
  'revtbl',
]);
/** Groups nested deeper than this are taken as garbage: the RTF is delivered as RTF. */
const MAX_GROUP_DEPTH = 512;
/** Characters that end a run of plain text. */
const SPECIAL = /[\\{}\r\n]/g;
/** Longest the reader works without letting other work run, and how often it looks at the clock. */
const MAX_BUSY_MS = 5;
const PACE_STEPS = 1024;

interface Group {
  /** Text here is not output (a skipped destination, or \htmlrtf on). */
  skip: boolean;
  /** Inside {\*\htmltag ...}: output even under \htmlrtf. */
  htmltag: boolean;
  htmlrtf: boolean;
  /** \ucN: characters that stand in for each \u that follows. */
  uc: number;
}

/** The HTML or text an RTF encapsulates, or `rtf` when it is RTF proper. Yields to the event loop as it reads a large one. */
export async function deencapsulate(rtf: Buffer): Promise<Deencapsulated> {
  const head = rtf.subarray(0, 1024).toString('latin1');
  const fromHtml = /\\fromhtml1/.test(head);
  const fromText = /\\fromtext/.test(head);
  if (!fromHtml && !fromText) return { kind: 'rtf' };
  const cpg = /\\ansicpg(\d+)/.exec(head);
  const decoder = codepageDecoder(cpg ? Number(cpg[1]) : 1252);
  const text = await readText(rtf.toString('latin1'), decoder);
  return text === undefined ? { kind: 'rtf' } : { kind: fromHtml ? 'html' : 'text', text };
}

async function readText(source: string, decoder: TextDecoder): Promise<string | undefined> {
  const out: string[] = [];
  const bytes: number[] = [];
  const flushBytes = (): void => {
    if (bytes.length === 0) return;
    out.push(decoder.decode(Uint8Array.from(bytes)));
    bytes.length = 0;
  };
  const emit = (text: string, group: Group): void => {
    if (!visible(group)) return;
    flushBytes();
    out.push(text);
  };
  const stack: Group[] = [];
  let group: Group = { skip: false, htmltag: false, htmlrtf: false, uc: 1 };
  let skipChars = 0;
  let at = 0;
  let groupStart = false;
  let since = performance.now();
  let steps = 0;
  while (at < source.length) {
    if (++steps % PACE_STEPS === 0 && performance.now() - since > MAX_BUSY_MS) {
      await nextTurn();
      since = performance.now();
    }
    const char = source[at]!;
    if (char === '{') {
      if (stack.length >= MAX_GROUP_DEPTH) return undefined;
      stack.push(group);
      group = { ...group };
      groupStart = true;
      at += 1;
      continue;
    }
    if (char === '}') {
      const outer = stack.pop();
      if (!outer) break; // the end of the document
      if (group.htmltag && !outer.htmltag) flushBytes();
      group = outer;
      at += 1;
      continue;
    }
    if (char === '\r' || char === '\n') {
      at += 1;
      continue;
    }
    if (char !== '\\') {
      groupStart = false;
      if (skipChars > 0) {
        skipChars -= 1;
        at += 1;
        continue;
      }
      // A run of plain text up to the next special character, in one piece.
      SPECIAL.lastIndex = at;
      const next = SPECIAL.exec(source);
      const end = next ? next.index : source.length;
      if (visible(group)) {
        flushBytes();
        out.push(source.slice(at, end));
      }
      at = end;
      continue;
    }
    // A control symbol or word.
    const next = source[at + 1];
    if (next === undefined) break;
    if (next === '\\' || next === '{' || next === '}') {
      if (skipChars > 0) skipChars -= 1;
      else emit(next, group);
      at += 2;
      continue;
    }
    if (next === "'") {
      const hex = source.slice(at + 2, at + 4);
      at += 4;
      if (skipChars > 0) {
        skipChars -= 1;
        continue;
      }
      if (visible(group) && /^[0-9a-fA-F]{2}$/.test(hex)) bytes.push(parseInt(hex, 16));
      continue;
    }
    if (next === '*') {
      // {\* \destination ...}: ignorable unless it is \htmltag, which holds the HTML.
      const word = /^\\\*\\([a-zA-Z]+)(-?\d+)? ?/.exec(source.slice(at, at + 64));
      if (word && word[1] === 'htmltag') {
        group.htmltag = true;
        group.skip = false;
      } else group.skip = true; // \mhtmltag (the original URLs) and every other ignorable destination
      at += word ? word[0].length : 2;
      groupStart = false;
      continue;
    }
    if (!/[a-zA-Z]/.test(next)) {
      // Other control symbols: \~ (no-break space), \- (optional hyphen), \_ (no-break hyphen).
      if (next === '~') emit('\u00a0', group);
      else if (next === '_') emit('-', group);
      at += 2;
      continue;
    }
    const word = /^\\([a-zA-Z]{1,32})(-?\d{1,10})? ?/.exec(source.slice(at, at + 48));
    if (!word) {
      at += 1;
      continue;
    }
    at += word[0].length;
    const name = word[1]!;
    const param = word[2] === undefined ? undefined : Number(word[2]);
    if (groupStart && SKIPPED_DESTINATIONS.has(name)) group.skip = true;
    groupStart = false;
    switch (name) {
      case 'htmlrtf':
        group.htmlrtf = param !== 0;
        break;
      case 'par':
      case 'line':
        emit('\n', group);
        break;
      case 'tab':
        emit('\t', group);
        break;
      case 'uc':
        group.uc = param ?? 1;
        break;
      case 'u':
        if (param !== undefined) {
          emit(String.fromCharCode(param < 0 ? param + 65536 : param), group);
          skipChars = group.uc;
        }
        break;
      default:
        break;
    }
  }
  flushBytes();
  return out.join('');

  function visible(current: Group): boolean {
    if (current.skip) return false;
    if (current.htmltag) return true;
    return !current.htmlrtf;
  }
}
