/**
 * What a filter or a route looks at, gathered by whoever knows it: the listing (headers,
 * BODYSTRUCTURE, size, or a Graph message's fields: before the body is downloaded) or the split
 * (after it).
 */

export interface AttachmentFact {
  contentType: string;
  filename: string | null;
  inline?: boolean;
}

export interface EmailFacts {
  /** The sender's address (From), without the display name; null when there is none. */
  from: string | null;
  /** Every recipient address: To, Cc and Delivered-To. */
  recipients: string[];
  /**
   * `false` when `recipients` may miss some (a Graph listing has To and Cc, not Delivered-To): a
   * `to` condition they do not satisfy is only decided after the download. Absent: all known.
   */
  recipientsComplete?: boolean;
  subject: string | null;
  /** Bytes, when known. */
  size?: number;
  /** The header that marks it as sent by a machine (src/mime/auto-reply.ts), when one does. */
  autoReply: string | null;
  /** A delivery-status report (bounce or delay). */
  bounce: boolean;
  /**
   * The attachments, once known. `complete: false` (from BODYSTRUCTURE) means more may appear
   * when the email is split (files inside a winmail.dat, uuencoded in the body): a condition
   * they do not satisfy yet is only decided after the download.
   */
  attachments?: {
    list: AttachmentFact[];
    complete: boolean;
    /** At least one attachment, even with none listed yet (a Graph listing's `hasAttachments`). */
    some?: boolean;
  };
}
