/**
 * The configured MailParser: streams attachments, keeps forwarded emails whole, and does none
 * of the display work (HTML to text, linkifying, checksums) Postroom would throw away.
 */
import type { Transform } from 'node:stream';
import { type Headers, MailParser, type MailParserOptions } from 'mailparser';
// Replaces mailsplit's line loop (inside mailparser) with one that passes over plain body lines at once.
import './mailsplit-line-scan.ts';
import { Base64Decoder } from './base64-decoder.ts';
import type { StreamedTextInfo } from './streamed-text.ts';
import { UUENCODE_ENCODINGS, UuDecoder } from './uuencode.ts';

const PARSER_OPTIONS: MailParserOptions = Object.freeze({
  // A message/rfc822 part is one attachment (the whole .eml), not a tree to split further.
  ignoreEmbedded: true,
  // The body is the text/plain part as sent, or else the HTML; never a conversion of one into the other.
  skipHtmlToText: true,
  skipTextToHtml: true,
  skipTextLinks: true,
  skipImageLinks: true,
  // A bounce's delivery-status part is an attachment of its own, not text glued to the body.
  keepDeliveryStatus: true,
  // The content store hashes every part with sha256 already; mailparser's md5 would be wasted work.
  checksumAlgo: false,
});

/** The slice of mailparser's internal tree node this module reads and adjusts. */
interface InternalNode {
  isAttachment?: boolean;
  disposition?: string;
  contentType?: string;
  charset?: string;
  headers?: Headers;
  decoder?: Transform;
}

/** The slice of mailsplit's MIME node (the argument of createNode) this module reads. */
interface SplitNode {
  root?: boolean;
  flowed?: boolean;
  delSp?: boolean;
  filename?: string | false;
  contentType?: string | false;
  disposition?: string | false;
  /** The declared Content-Transfer-Encoding, lowercased and trimmed ('' when there is none). */
  encoding?: string | false;
  multipart?: string | false;
  _parsedContentType?: { params?: Record<string, string> };
  parentNode?: SplitNode | false;
}

/** What the parser learnt about one leaf part that the attachment stream itself does not carry. */
export interface PartInfo {
  /** Content types of the enclosing multiparts, the nearest first. */
  parents: string[];
  /** The report-type of the multipart/report the part is directly in. */
  reportType?: string;
  /** The part's Content-Transfer-Encoding when Postroom does not know it: its bytes are delivered as they came. */
  undecodedEncoding?: string;
  /** The uuencode decoder of a part declared uuencoded: it knows the name on the begin line. */
  uu?: UuDecoder;
}

type CreateNode = (this: MailParser, node: SplitNode) => InternalNode;
type OwnCreateNode = (this: AttachmentAwareParser, node: SplitNode) => InternalNode;

/** What the multiparts of an email say about all of it. */
export interface EmailTraits {
  /** report-type of its (first) multipart/report. */
  reportType?: string;
  /** protocol of its (first) multipart/signed. */
  signedProtocol?: string;
  /** It has a multipart/encrypted. */
  encrypted?: boolean;
}

/** Transfer encodings that leave the bytes as they are (RFC 2045 6.2), and the misspellings real mail has. */
const IDENTITY_ENCODINGS: ReadonlySet<string> = new Set(['', '7bit', '8bit', 'binary', '7-bit', '8-bit', '8bits']);
/** Decoded by mailsplit itself. */
const DECODED_ENCODINGS: ReadonlySet<string> = new Set(['base64', 'quoted-printable']);
const BODY_DISPOSITIONS: ReadonlySet<string> = new Set(['inline', 'attachment']);

/**
 * mailparser's decisions about each part, corrected where real mail needs it. mailparser makes
 * them in its internal createNode, which is wrapped here; the corpus pins each correction in case
 * a mailparser update renames it:
 * - a part sent uuencoded (x-uuencode, uuencode, x-uue, uue) gets a uuencode decoder, where
 *   mailsplit would hand out the encoded text (see uuencode.ts);
 * - a base64 part gets Postroom's base64 decoder: the same bytes as mailsplit's, for less CPU
 *   (see base64-decoder.ts);
 * - a part in a transfer encoding nobody decodes is an attachment as it came, even a text part
 *   (its text cannot be read as the body), and says so;
 * - a text part whose Content-Disposition cannot be read (`=?utf-8?Q?invalid?=`) is taken as
 *   having none, so it is still body text: mailparser makes any unknown disposition an attachment;
 * - mailparser joins every inline text/plain or text/html part into the body, even one that
 *   names a file (Apple Mail attaches text files as `inline; filename=notes.txt`, others send
 *   `Content-Type: text/plain; name=notes.txt` with no disposition at all). Mail clients show
 *   those as attachments, and so does Postroom: such a part is turned into an attachment unless
 *   it is the whole email, one rendering of a multipart/alternative body, or the first part
 *   (the root) of a multipart/related one.
 */
class AttachmentAwareParser extends MailParser {
  /**
   * Set for a large email: every text part mailparser would decode in memory is handed out as
   * an attachment stream instead, and described here by its headers (see streamed-text.ts).
   */
  streamedText: WeakMap<Headers, StreamedTextInfo> | undefined;
  /** Each leaf part, by its headers (the same object its attachment stream carries). */
  readonly parts = new WeakMap<Headers, PartInfo>();
  /** How many children each multipart has had so far. */
  readonly childCount = new WeakMap<SplitNode, number>();
  readonly traits: EmailTraits = {};
}

const internal = MailParser.prototype as unknown as { createNode?: CreateNode };
const createNode = internal.createNode;
if (typeof createNode === 'function') {
  (AttachmentAwareParser.prototype as unknown as { createNode: OwnCreateNode }).createNode = function (node) {
    const created = createNode.call(this, node);
    const parent = node.parentNode || undefined;
    const position = parent ? (this.childCount.get(parent) ?? 0) : 0;
    if (parent) this.childCount.set(parent, position + 1);
    if (node.multipart) {
      noteMultipart(this.traits, node);
      return created;
    }
    if (!created.headers) return created;
    const info: PartInfo = { parents: parentTypes(node) };
    if (parent?.contentType === 'multipart/report') info.reportType = param(parent, 'report-type') ?? 'unknown';
    this.parts.set(created.headers, info);
    const encoding = (node.encoding || '').toLowerCase();
    if (encoding === 'base64' && created.decoder) {
      created.decoder = new Base64Decoder();
      created.decoder.once('end', () => {
        (this as unknown as { decoderEnded: boolean }).decoderEnded = true;
      });
    } else if (UUENCODE_ENCODINGS.has(encoding) && created.decoder) {
      info.uu = new UuDecoder();
      info.uu.once('end', () => {
        (this as unknown as { decoderEnded: boolean }).decoderEnded = true;
      });
      created.decoder = info.uu;
    } else if (!IDENTITY_ENCODINGS.has(encoding) && !DECODED_ENCODINGS.has(encoding)) {
      info.undecodedEncoding = encoding;
      created.isAttachment = true;
      return created;
    }
    // An unreadable disposition counts as none: a text part is then inline, unless it names a file (below).
    if (created.isAttachment === true && isBodyText(created.contentType) && unreadableDisposition(node)) {
      created.isAttachment = false;
      created.disposition = 'inline';
    }
    if (created.isAttachment === false && isNamedTextPart(node, position)) created.isAttachment = true;
    else if (created.isAttachment === false && this.streamedText && isBodyText(created.contentType)) {
      created.isAttachment = true;
      this.streamedText.set(created.headers, {
        contentType: created.contentType,
        charset: created.charset,
        flowed: node.flowed === true,
        delSp: node.delSp === true,
      });
    }
    return created;
  };
}

function noteMultipart(traits: EmailTraits, node: SplitNode): void {
  if (node.contentType === 'multipart/report') traits.reportType ??= param(node, 'report-type') ?? 'unknown';
  else if (node.contentType === 'multipart/signed') traits.signedProtocol ??= param(node, 'protocol') ?? 'unknown';
  else if (node.contentType === 'multipart/encrypted') traits.encrypted = true;
}

/** A Content-Type parameter, lowercased and trimmed; undefined when absent or empty. */
function param(node: SplitNode, name: string): string | undefined {
  const value = node._parsedContentType?.params?.[name]?.trim().toLowerCase();
  return value ? value : undefined;
}

function parentTypes(node: SplitNode): string[] {
  const types: string[] = [];
  for (let parent = node.parentNode; parent; parent = parent.parentNode) types.push(parent.contentType || '');
  return types;
}

function isBodyText(type: string | undefined): type is StreamedTextInfo['contentType'] {
  return type === 'text/plain' || type === 'text/html';
}

/** A Content-Disposition that is there but says neither inline nor attachment. */
function unreadableDisposition(node: SplitNode): boolean {
  return typeof node.disposition === 'string' && node.disposition !== '' && !BODY_DISPOSITIONS.has(node.disposition);
}

function isNamedTextPart(node: SplitNode, position: number): boolean {
  if (node.root || !node.filename) return false;
  const parentType = node.parentNode ? node.parentNode.contentType : undefined;
  if (parentType === 'multipart/alternative') return false;
  return !(parentType === 'multipart/related' && position === 0);
}

export interface EmailParser {
  parser: MailParser;
  /** What the parser learnt about each leaf part, by its headers. */
  parts: WeakMap<Headers, PartInfo>;
  /** Filled in as the multiparts go by. */
  traits: EmailTraits;
  /** The body text parts handed out as streams (only with `streamText`), by their headers. */
  streamedText: WeakMap<Headers, StreamedTextInfo> | undefined;
}

export function createEmailParser(options: { streamText?: boolean } = {}): EmailParser {
  const parser = new AttachmentAwareParser({ ...PARSER_OPTIONS });
  if (options.streamText) parser.streamedText = new WeakMap();
  return { parser, parts: parser.parts, traits: parser.traits, streamedText: parser.streamedText };
}
