/**
 * BinHex 4.0 (`application/mac-binhex40`, .hqx), the Macintosh's mail encoding: delivered as it
 * came, since only a Mac tool makes use of the resource fork it carries. When the MIME part names
 * no file, the name is read from the BinHex header itself: after the line starting with `:`, the
 * text is 6 bits per character in BinHex's own alphabet, then run-length encoded (0x90 marks a
 * repeat), and the decoded data starts with the name's length byte and the name.
 */

/** The BinHex 4.0 alphabet: character i stands for the 6-bit value i. */
const ALPHABET = '!"#$%&\'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr';
const VALUES = new Map(Array.from(ALPHABET, (char, index) => [char.charCodeAt(0), index]));
const RUN_MARKER = 0x90;
/** A Mac file name has at most 63 characters; the header is read no further than that. */
const MAX_NAME_BYTES = 63;

/** The file name in a BinHex header, or undefined when `head` (the part's first bytes) holds none. */
export function binhexName(head: Buffer): string | undefined {
  const text = head.toString('latin1');
  const start = /(^|\n):/.exec(text);
  if (!start) return undefined;
  const decoded = decodeHead(text, start.index + start[0].length, MAX_NAME_BYTES + 1);
  const length = decoded[0];
  if (length === undefined || length === 0 || length > MAX_NAME_BYTES || decoded.length < length + 1) return undefined;
  // Mac names are in Mac Roman; the ASCII range, which is what real names use, is the same.
  return Buffer.from(decoded.subarray(1, length + 1)).toString('latin1');
}

/** At most `limit` bytes of the decoded, run-length expanded data. */
function decodeHead(text: string, from: number, limit: number): Buffer {
  const bytes: number[] = [];
  let bits = 0;
  let bitCount = 0;
  let previous: number | undefined;
  let repeat = false;
  for (let at = from; at < text.length && bytes.length < limit; at += 1) {
    const code = text.charCodeAt(at);
    if (code === 0x3a) break; // the closing colon
    const value = VALUES.get(code);
    if (value === undefined) continue; // line ends and whitespace
    bits = (bits << 6) | value;
    bitCount += 6;
    if (bitCount < 8) continue;
    bitCount -= 8;
    const byte = (bits >> bitCount) & 0xff;
    bits &= (1 << bitCount) - 1;
    if (repeat) {
      repeat = false;
      if (byte === 0) bytes.push(RUN_MARKER);
      else if (previous !== undefined) for (let n = 1; n < byte && bytes.length < limit; n += 1) bytes.push(previous);
      continue;
    }
    if (byte === RUN_MARKER) {
      repeat = true;
      continue;
    }
    bytes.push(byte);
    previous = byte;
  }
  return Buffer.from(bytes);
}
