/**
 * The message properties the fake Graph lists, computed from the stored MIME as Exchange Online
 * shows a received email: `from` and `sender` (Sender, else From), `toRecipients`,
 * `ccRecipients`, `subject`, `hasAttachments` (not counting inline attachments, as the message
 * resource says), next to the stored `id`, `internetMessageId`, `receivedDateTime`, `isRead`,
 * `parentFolderId`.
 */
import { type AddressObject, type EmailAddress, simpleParser } from 'mailparser';

/** The properties a `$select` may name; Graph answers 400 for any other. */
export const MESSAGE_FIELDS = [
  'id',
  'internetMessageId',
  'receivedDateTime',
  'isRead',
  'parentFolderId',
  'subject',
  'from',
  'sender',
  'toRecipients',
  'ccRecipients',
  'hasAttachments',
] as const;
export type MessageField = (typeof MESSAGE_FIELDS)[number];

/** The fields that need the MIME parsed. */
const FROM_MIME: readonly MessageField[] = ['subject', 'from', 'sender', 'toRecipients', 'ccRecipients', 'hasAttachments'];

export interface GraphRecipient {
  emailAddress: { name: string; address: string };
}

export interface MimeFields {
  subject: string;
  from: GraphRecipient | null;
  sender: GraphRecipient | null;
  toRecipients: GraphRecipient[];
  ccRecipients: GraphRecipient[];
  hasAttachments: boolean;
}

function recipients(header: AddressObject | AddressObject[] | undefined): GraphRecipient[] {
  if (!header) return [];
  const flatten = (address: EmailAddress): EmailAddress[] => (address.group ? address.group.flatMap(flatten) : [address]);
  return (Array.isArray(header) ? header : [header])
    .flatMap((object) => object.value.flatMap(flatten))
    .filter((address) => !!address.address)
    .map((address) => ({ emailAddress: { name: address.name || address.address!, address: address.address! } }));
}

export function needsMime(fields: readonly string[]): boolean {
  return fields.some((field) => (FROM_MIME as readonly string[]).includes(field));
}

export async function mimeFields(raw: Buffer): Promise<MimeFields> {
  const parsed = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true, skipTextLinks: true });
  const from = recipients(parsed.from)[0] ?? null;
  const senderHeader = parsed.headers.get('sender') as AddressObject | undefined;
  return {
    subject: parsed.subject ?? '',
    from,
    sender: recipients(senderHeader)[0] ?? from,
    toRecipients: recipients(parsed.to),
    ccRecipients: recipients(parsed.cc),
    // Inline attachments (shown by the HTML, or marked inline) are not counted.
    hasAttachments: parsed.attachments.some((attachment) => !attachment.related && attachment.contentDisposition !== 'inline'),
  };
}
