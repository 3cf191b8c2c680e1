/**
 * Seeded random mutations of corpus emails (bytes flipped, ranges cut, doubled or spliced from
 * another email, headers swapped for the types and encodings that take special paths, delimiter
 * and uuencode lines inserted), shared by the fuzz test and the splitter comparison.
 */
/** The seeded generator the mutations are drawn with. */
export { seededRandom as generator } from './seeded-random.ts';

const SPECIAL_TYPES = [
  'multipart/report; report-type=delivery-status; boundary="x"',
  'application/pkcs7-mime; smime-type=signed-data',
  'application/pkcs7-mime',
  'application/ms-tnef',
  'multipart/appledouble; boundary="x"',
  'multipart/encrypted; boundary="x"',
  'multipart/signed; protocol="application/pgp-signature"; boundary="x"',
  'message/delivery-status',
  'application/applefile',
  'application/mac-binhex40',
  'text/html',
];
const ENCODINGS = ['x-uuencode', 'uue', 'base64', 'quoted-printable', '8bit', 'x-gzip64', 'binary', ''];

export type Mutation = (raw: Buffer, random: () => number, donor: Buffer) => Buffer;

export const at = (random: () => number, length: number): number => Math.floor(random() * Math.max(1, length));

export const MUTATIONS: Mutation[] = [
  // Flip a few bytes anywhere (inside base64 that is garbage for TNEF, CMS, BinHex readers).
  (raw, random) => {
    const copy = Buffer.from(raw);
    for (let n = 0; n < 1 + at(random, 8); n += 1) copy[at(random, copy.length)] = at(random, 256);
    return copy;
  },
  // Cut a range out.
  (raw, random) => {
    const start = at(random, raw.length);
    return Buffer.concat([raw.subarray(0, start), raw.subarray(start + at(random, 400))]);
  },
  // Truncate.
  (raw, random) => raw.subarray(0, at(random, raw.length)),
  // Double a range.
  (raw, random) => {
    const start = at(random, raw.length);
    const end = start + at(random, 600);
    return Buffer.concat([raw.subarray(0, end), raw.subarray(start, end), raw.subarray(end)]);
  },
  // Splice in a piece of another email.
  (raw, random, donor) => {
    const start = at(random, donor.length);
    const where = at(random, raw.length);
    return Buffer.concat([raw.subarray(0, where), donor.subarray(start, start + at(random, 800)), raw.subarray(where)]);
  },
  // Swap a Content-Type for one that takes a special path.
  (raw, random) => replaceHeader(raw, 'Content-Type', SPECIAL_TYPES[at(random, SPECIAL_TYPES.length)]!, random),
  // Swap a Content-Transfer-Encoding.
  (raw, random) => replaceHeader(raw, 'Content-Transfer-Encoding', ENCODINGS[at(random, ENCODINGS.length)]!, random),
  // Insert a uuencode begin line, a bare boundary or a BinHex start at a line start.
  (raw, random) => {
    const text = raw.toString('latin1');
    const lines = text.split('\n');
    const line = ['begin 644 x.bin\r', '--x\r', '--=_mixed\r', ':!!!!\r', 'M86)C\r', 'end\r', '`\r'][at(random, 7)]!;
    lines.splice(at(random, lines.length), 0, line);
    return Buffer.from(lines.join('\n'), 'latin1');
  },
];

function replaceHeader(raw: Buffer, name: string, value: string, random: () => number): Buffer {
  const text = raw.toString('latin1');
  const pattern = new RegExp(`^${name}:[^\\r\\n]*`, 'gim');
  const matches = [...text.matchAll(pattern)];
  if (matches.length === 0) return Buffer.from(`${name}: ${value}\r\n${text}`, 'latin1');
  const match = matches[at(random, matches.length)]!;
  return Buffer.from(`${text.slice(0, match.index)}${name}: ${value}${text.slice(match.index! + match[0].length)}`, 'latin1');
}
