/**
 * The message fields a Graph listing asks for when the connection has a filter, and the facts
 * (src/filter/email-facts.ts) they make, so an email those fields already leave out is never
 * downloaded. Graph lists fields, not the header section (README.md, "Filters on the listing"):
 * `from`, `toRecipients` and `ccRecipients`, `subject`, `hasAttachments`. What they cannot tell
 * is judged after the download, as before: a `to` that none of To and Cc matches (Delivered-To is
 * not a field), the attachments' types, the size (PR_MESSAGE_SIZE is the item's size in the
 * store, not the MIME's), auto-replies and bounces (headers a listing does not give).
 */
import type { FilterConfig } from '../../config/filter-schema.ts';
import type { EmailFacts } from '../../filter/email-facts.ts';

interface Recipient {
  emailAddress?: { name?: string | null; address?: string | null } | null;
}

/** One message of a listing, with the fields listingFields() may have asked for. */
export interface ListedMessage {
  id: string;
  from?: Recipient | null;
  toRecipients?: Recipient[] | null;
  ccRecipients?: Recipient[] | null;
  subject?: string | null;
  hasAttachments?: boolean | null;
}

/**
 * The `$select` fields besides `id` that the filter's conditions are judged on; none without a
 * filter, or when it has no condition the fields can decide (the listing then costs what it did).
 */
export function listingFields(filter: FilterConfig | undefined): string[] {
  if (!filter) return [];
  const fields: string[] = [];
  if (filter.from) fields.push('from');
  if (filter.to) fields.push('toRecipients', 'ccRecipients');
  if (filter.subject) fields.push('subject');
  if (filter.hasAttachments !== undefined) fields.push('hasAttachments');
  return fields;
}

function address(recipient: Recipient | null | undefined): string | null {
  const value = recipient?.emailAddress?.address?.trim();
  return value ? value : null;
}

/** The facts of a listed message. */
export function messageFacts(message: ListedMessage): EmailFacts {
  const recipients = [...(message.toRecipients ?? []), ...(message.ccRecipients ?? [])].map(address).filter((a): a is string => a !== null);
  const facts: EmailFacts = {
    from: address(message.from)?.toLowerCase() ?? null,
    recipients,
    // Delivered-To is not among them: a `to` they do not match waits for the download.
    recipientsComplete: false,
    subject: typeof message.subject === 'string' ? message.subject : null,
    // Not known before the download; a filter's autoReplies/bounces are decided after it.
    autoReply: null,
    bounce: false,
  };
  // hasAttachments leaves out inline attachments, so `false` says nothing; `true` is at least one.
  if (message.hasAttachments === true) facts.attachments = { list: [], complete: false, some: true };
  return facts;
}
