/**
 * The configured MailParser: streams attachments, keeps forwarded emails whole, and does none
 * of the display work (HTML to text, linkifying, checksums) Postroom would throw away.
 */
import { MailParser, type Headers, type MailParserOptions } from 'mailparser';
import type { StreamedTextInfo } from './streamed-text.ts';

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
  contentType?: string;
  charset?: string;
  headers?: Headers;
}

/** The slice of mailsplit's MIME node (the argument of createNode) this module reads. */
interface SplitNode {
  root?: boolean;
  flowed?: boolean;
  delSp?: boolean;
  filename?: string | false;
  parentNode?: { contentType?: string | false } | false;
}

type CreateNode = (this: MailParser, node: SplitNode) => InternalNode;
type OwnCreateNode = (this: AttachmentAwareParser, node: SplitNode) => InternalNode;

/**
 * mailparser joins every inline text/plain or text/html part into the body, even one that names
 * a file (Apple Mail attaches text files as `inline; filename=notes.txt`). Mail clients show
 * those as attachments, and so does Postroom: such a part is turned into an attachment unless it
 * is the whole email or one rendering of a multipart/alternative body. mailparser makes this
 * decision in its internal createNode, which is wrapped here; the corpus email inline-text-file
 * pins the behaviour in case a mailparser update renames it.
 */
class AttachmentAwareParser extends MailParser {
  /**
   * Set for a large email: every text part mailparser would decode in memory is handed out as
   * an attachment stream instead, and described here by its headers (see streamed-text.ts).
   */
  streamedText: WeakMap<Headers, StreamedTextInfo> | undefined;
}

const internal = MailParser.prototype as unknown as { createNode?: CreateNode };
const createNode = internal.createNode;
if (typeof createNode === 'function') {
  (AttachmentAwareParser.prototype as unknown as { createNode: OwnCreateNode }).createNode = function (node) {
    const created = createNode.call(this, node);
    if (created.isAttachment === false && isNamedTextPart(node)) created.isAttachment = true;
    else if (created.isAttachment === false && this.streamedText && created.headers && isBodyText(created.contentType)) {
      created.isAttachment = true;
      this.streamedText.set(created.headers, { contentType: created.contentType, charset: created.charset, flowed: node.flowed === true, delSp: node.delSp === true });
    }
    return created;
  };
}

function isBodyText(type: string | undefined): type is StreamedTextInfo['contentType'] {
  return type === 'text/plain' || type === 'text/html';
}

function isNamedTextPart(node: SplitNode): boolean {
  if (node.root || !node.filename) return false;
  const parentType = node.parentNode ? node.parentNode.contentType : undefined;
  return parentType !== 'multipart/alternative';
}

export interface EmailParser {
  parser: MailParser;
  /** The body text parts handed out as streams (only with `streamText`), by their headers. */
  streamedText: WeakMap<Headers, StreamedTextInfo> | undefined;
}

export function createEmailParser(options: { streamText?: boolean } = {}): EmailParser {
  const parser = new AttachmentAwareParser({ ...PARSER_OPTIONS });
  if (options.streamText) parser.streamedText = new WeakMap();
  return { parser, streamedText: parser.streamedText };
}
