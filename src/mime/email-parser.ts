/**
 * The configured MailParser: streams attachments, keeps forwarded emails whole, and does none
 * of the display work (HTML to text, linkifying, checksums) Postroom would throw away.
 */
import { MailParser, type MailParserOptions } from 'mailparser';

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
}

/** The slice of mailsplit's MIME node (the argument of createNode) this module reads. */
interface SplitNode {
  root?: boolean;
  filename?: string | false;
  parentNode?: { contentType?: string | false } | false;
}

type CreateNode = (this: MailParser, node: SplitNode) => InternalNode;

/**
 * mailparser joins every inline text/plain or text/html part into the body, even one that names
 * a file (Apple Mail attaches text files as `inline; filename=notes.txt`). Mail clients show
 * those as attachments, and so does Postroom: such a part is turned into an attachment unless it
 * is the whole email or one rendering of a multipart/alternative body. mailparser makes this
 * decision in its internal createNode, which is wrapped here; the corpus email inline-text-file
 * pins the behaviour in case a mailparser update renames it.
 */
class AttachmentAwareParser extends MailParser {}

const internal = MailParser.prototype as unknown as { createNode?: CreateNode };
const createNode = internal.createNode;
if (typeof createNode === 'function') {
  (AttachmentAwareParser.prototype as unknown as { createNode: CreateNode }).createNode = function (node) {
    const created = createNode.call(this, node);
    if (created.isAttachment === false && isNamedTextPart(node)) created.isAttachment = true;
    return created;
  };
}

function isNamedTextPart(node: SplitNode): boolean {
  if (node.root || !node.filename) return false;
  const parentType = node.parentNode ? node.parentNode.contentType : undefined;
  return parentType !== 'multipart/alternative';
}

export function createEmailParser(): MailParser {
  return new AttachmentAwareParser({ ...PARSER_OPTIONS });
}
