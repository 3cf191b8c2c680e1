/**
 * Just enough of CMS (RFC 5652) to unwrap opaque-signed S/MIME (`application/pkcs7-mime;
 * smime-type=signed-data`, RFC 8551 3.5.2): the signed MIME entity travels inside the signature
 * as ContentInfo { signedData, SignedData { version, digestAlgorithms, encapContentInfo {
 * eContentType, [0] eContent OCTET STRING }, ... } }, and this reads it back out. It also tells
 * encrypted content (envelopedData, authEnvelopedData) from signed content. The signature is not
 * verified: Postroom holds no trust store, and the .p7m is delivered as it came for anyone who
 * wants to check it.
 *
 * Written here rather than taken from a library: the one path above is all that is needed, and
 * the libraries that read CMS (pkijs on asn1js, node-forge) build an object tree of the whole
 * structure, certificates included, where this walks the bytes in place and copies only the
 * content out. BER as Outlook writes it is read too: indefinite lengths and an eContent split
 * into a constructed OCTET STRING of chunks.
 *
 * The input is hostile: every length is checked against the bytes there are, nesting is bounded,
 * and anything unexpected is a CmsError (the caller then delivers the .p7m as it came).
 */

export class CmsError extends Error {}

export type CmsKind = 'signed-data' | 'enveloped-data' | 'auth-enveloped-data' | 'other';

/** Content of the OBJECT IDENTIFIERs this reader knows, hex. */
const OIDS: ReadonlyMap<string, CmsKind> = new Map([
  ['2a864886f70d010702', 'signed-data'], // 1.2.840.113549.1.7.2
  ['2a864886f70d010703', 'enveloped-data'], // 1.2.840.113549.1.7.3
  ['2a864886f70d0109100117', 'auth-enveloped-data'], // 1.2.840.113549.1.9.16.1.23
]);

const TAG_SEQUENCE = 0x10;
const TAG_SET = 0x11;
const TAG_INTEGER = 0x02;
const TAG_OCTET_STRING = 0x04;
const TAG_OID = 0x06;
const CLASS_UNIVERSAL = 0;
const CLASS_CONTEXT = 2;
/** Far deeper than CMS nests; a constructed OCTET STRING nested deeper is an attack. */
const MAX_DEPTH = 32;
/**
 * Element reads in one structure (each element is read about twice). Streamed S/MIME splits the
 * content into chunks of some kilobytes (openssl -stream writes 4,096-byte ones: a 64 MB .p7m is
 * some 16,000); a million reads took 87 ms here for 20 MB in 100-byte chunks, so a hostile file
 * of tiny chunks costs well under a second before it is refused.
 */
const MAX_ELEMENTS = 1_000_000;

/** One structure being read: where each indefinite-length element ends, found once, and the element budget. */
class Reader {
  readonly data: Buffer;
  readonly ends = new Map<number, number>();
  elements = 0;

  constructor(data: Buffer) {
    this.data = data;
  }
}

interface Element {
  tagClass: number;
  tag: number;
  constructed: boolean;
  /** Where the contents start. */
  start: number;
  /** Where the contents end (for an indefinite length: where its end-of-contents marker starts). */
  end: number;
  /** Where the next element starts. */
  next: number;
}

/** What the CMS structure holds, by its outer content type. */
export function cmsKind(data: Buffer): CmsKind {
  // Only the first element inside the outer SEQUENCE is needed: no need to find where it ends.
  const reader = new Reader(data);
  const outer = readHead(reader, 0, data.length, 0);
  if (outer.tagClass !== CLASS_UNIVERSAL || outer.tag !== TAG_SEQUENCE || !outer.constructed) throw new CmsError('not a CMS ContentInfo');
  const type = readElement(reader, outer.start, data.length, 1);
  if (!type || type.tagClass !== CLASS_UNIVERSAL || type.tag !== TAG_OID) throw new CmsError('no content type');
  return OIDS.get(data.subarray(type.start, type.end).toString('hex')) ?? 'other';
}

/** The signed content (a MIME entity) of a signed-data ContentInfo. */
export function signedContent(data: Buffer): Buffer {
  const reader = new Reader(data);
  const info = sequenceChildren(reader, readElement(reader, 0, data.length, 0));
  const [type, explicit] = info;
  if (!type || !explicit || OIDS.get(data.subarray(type.start, type.end).toString('hex')) !== 'signed-data') throw new CmsError('not signed-data');
  const signedData = only(reader, explicit, CLASS_CONTEXT, 0);
  const fields = sequenceChildren(reader, signedData);
  const [version, digests, encap] = fields;
  expect(version, CLASS_UNIVERSAL, TAG_INTEGER);
  expect(digests, CLASS_UNIVERSAL, TAG_SET);
  const encapFields = sequenceChildren(reader, encap);
  const content = encapFields[1];
  if (!content) throw new CmsError('detached signature: no content inside');
  return octetString(reader, only(reader, content, CLASS_CONTEXT, 0), 0);
}

function expect(element: Element | undefined, tagClass: number, tag: number): asserts element is Element {
  if (!element || element.tagClass !== tagClass || element.tag !== tag) throw new CmsError(`unexpected element (expected class ${tagClass} tag ${tag})`);
}

/** The one element inside an explicit tag [n]. */
function only(reader: Reader, outer: Element, tagClass: number, tag: number): Element {
  expect(outer, tagClass, tag);
  if (!outer.constructed) throw new CmsError('explicit tag is not constructed');
  return readElement(reader, outer.start, outer.end, 1);
}

function sequenceChildren(reader: Reader, element: Element | undefined): Element[] {
  expect(element, CLASS_UNIVERSAL, TAG_SEQUENCE);
  return children(reader, element, 1);
}

function children(reader: Reader, parent: Element, depth: number): Element[] {
  if (!parent.constructed) throw new CmsError('not constructed');
  const found: Element[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const child = readElement(reader, at, parent.end, depth);
    found.push(child);
    at = child.next;
  }
  return found;
}

/** An OCTET STRING's bytes: one primitive string, or the chunks of a constructed one joined. */
function octetString(reader: Reader, element: Element, depth: number): Buffer {
  expect(element, CLASS_UNIVERSAL, TAG_OCTET_STRING);
  if (!element.constructed) return reader.data.subarray(element.start, element.end);
  if (depth >= MAX_DEPTH) throw new CmsError('octet string nested too deep');
  return Buffer.concat(children(reader, element, depth + 1).map((chunk) => octetString(reader, chunk, depth + 1)));
}

/** The element starting at `at`, which must end by `limit`. */
function readElement(reader: Reader, at: number, limit: number, depth: number): Element {
  const element = readHead(reader, at, limit, depth);
  if (element.end !== -1) return element;
  // An indefinite length: children up to the end-of-contents marker (two zero bytes), found once per element.
  const { data } = reader;
  let inner = reader.ends.get(at);
  if (inner === undefined) {
    inner = element.start;
    while (!(data[inner] === 0 && data[inner + 1] === 0)) {
      if (inner + 2 > limit) throw new CmsError(`no end-of-contents for the element at byte ${at}`);
      inner = readElement(reader, inner, limit, depth + 1).next;
    }
    if (inner + 2 > limit) throw new CmsError(`no end-of-contents for the element at byte ${at}`);
    reader.ends.set(at, inner);
  }
  element.end = inner;
  element.next = inner + 2;
  return element;
}

/** The tag and length of the element at `at`; for an indefinite length, `end` and `next` are -1. */
function readHead(reader: Reader, at: number, limit: number, depth: number): Element {
  if (depth > MAX_DEPTH) throw new CmsError('nested too deep');
  if (++reader.elements > MAX_ELEMENTS) throw new CmsError(`more than ${MAX_ELEMENTS} elements`);
  const { data } = reader;
  if (at + 2 > limit) throw new CmsError(`truncated at byte ${at}`);
  const first = data[at]!;
  let offset = at + 1;
  let tag = first & 0x1f;
  if (tag === 0x1f) {
    // High tag numbers: base-128 digits. CMS uses none above 30; more than 4 digits is garbage.
    tag = 0;
    for (let digits = 0; ; digits += 1) {
      if (offset >= limit || digits >= 4) throw new CmsError(`bad tag at byte ${at}`);
      const byte = data[offset++]!;
      tag = (tag << 7) | (byte & 0x7f);
      if ((byte & 0x80) === 0) break;
    }
  }
  const constructed = (first & 0x20) !== 0;
  if (offset >= limit) throw new CmsError(`truncated at byte ${at}`);
  const lengthByte = data[offset++]!;
  if (lengthByte === 0x80) {
    if (!constructed) throw new CmsError(`indefinite length on a primitive element at byte ${at}`);
    return { tagClass: first >> 6, tag, constructed, start: offset, end: -1, next: -1 };
  }
  let length = lengthByte;
  if (lengthByte & 0x80) {
    const count = lengthByte & 0x7f;
    if (count > 4 || offset + count > limit) throw new CmsError(`bad length at byte ${at}`);
    length = 0;
    for (let index = 0; index < count; index += 1) length = length * 256 + data[offset++]!;
  }
  if (offset + length > limit) throw new CmsError(`element at byte ${at} runs past its end`);
  return { tagClass: first >> 6, tag, constructed, start: offset, end: offset + length, next: offset + length };
}
