/**
 * The pipeline message: what Postroom emits. One email yields up to 1 + N of them, its body
 * and each attachment, each with a deterministic id so a redelivery carries the same id.
 */
import { createHash } from 'node:crypto';
import type { SourceKey } from './source-key.ts';

export const PART_KINDS = Object.freeze(['body', 'attachment', 'original'] as const);
export type PartKind = (typeof PART_KINDS)[number];

/** Where the email came from: its stable key on the server. */
export type EnvelopeSource = SourceKey;

export interface EnvelopeEmail {
  messageId: string | null;
  from: string | null;
  /** At most MAX_ENVELOPE_RECIPIENTS (src/mime/envelope-email.ts) each; toCount / ccCount say how many there were when cut. */
  to: string[];
  cc: string[];
  toCount?: number;
  ccCount?: number;
  subject: string | null;
  date: string | null;
  /** A machine-made report about another email: a bounce or delay (DSN), a read receipt (MDN), an abuse report (ARF). */
  report?: EmailReport;
  /** Sent by a machine in reply to an email (out-of-office, vacation, ticket robot): the marker that said so. */
  autoReply?: { marker: string };
  /** From a mailing list (RFC 2919 List-Id). */
  list?: { id: string; name?: string };
  /** multipart/signed or opaque S/MIME signed-data: the signature is its own attachment (not verified). */
  signed?: { protocol: string };
  /** Encrypted (S/MIME enveloped-data, PGP/MIME multipart/encrypted): delivered whole as the one 'original' part, since Postroom holds no keys. */
  encrypted?: true;
}

/** multipart/report (RFC 6522), read from its machine-readable part. */
export interface EmailReport {
  /** The report-type: delivery-status (RFC 3464), disposition-notification (RFC 8098), feedback-report (RFC 5965), or another one as sent. */
  type: string;
  /** Message-ID of the email the report is about (from the returned email or its headers, or the MDN's Original-Message-ID); null when the report does not carry it. */
  originalMessageId: string | null;
  /** delivery-status: each recipient the report is about. */
  recipients?: ReportRecipient[];
  /** disposition-notification: what became of the email at the recipient. */
  disposition?: { type: string; mode: string | null; recipient: string | null };
  /** feedback-report: what the reporter says the email was. */
  feedback?: { type: string; sourceIp: string | null; originalMailFrom: string | null };
}

export interface ReportRecipient {
  /** Final-Recipient without its address type ("rfc822;"). */
  recipient: string;
  /** failed, delayed, delivered, relayed or expanded. */
  action: string | null;
  /** The enhanced status code (RFC 3463), e.g. 5.1.1. */
  status: string | null;
  /** What the remote server said, as reported (e.g. "smtp; 550 5.1.1 user unknown"). */
  diagnosticCode?: string;
}

/** The `<id>.json` written next to `<id>.data`; also the headers/metadata of every other destination. */
export interface Envelope {
  id: string;
  connection: string;
  kind: PartKind;
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
  partIndex: number;
  source: EnvelopeSource;
  email: EnvelopeEmail;
  receivedAt: string;
  /** Attachments only: shown inline by the HTML through cid:. */
  inline?: boolean;
  contentId?: string;
  /** Calendar parts: the iTIP method (REQUEST, CANCEL, ...). */
  method?: string;
  /** Kind "original" only: why the email could not be split. */
  parseError?: string;
  /** Attachments only: the part's Content-Transfer-Encoding, which Postroom does not know; the content is delivered as it came, still encoded. */
  undecodedEncoding?: string;
  /** Attachments only: the data fork of a Macintosh file (multipart/appledouble); its header part, with the resource fork, is described here instead of delivered. */
  appleFile?: AppleFileInfo;
}

/** The Finder info of a Macintosh file and the size of the resource fork that was not delivered. */
export interface AppleFileInfo {
  /** Four-character Finder type ("PDF ", "TEXT"), or null. */
  type: string | null;
  creator: string | null;
  resourceForkBytes: number;
}

/**
 * sha256 of connection, source key and part index; 32 hex characters (128 bits) is plenty to
 * never collide and short enough for file names and broker headers.
 */
export function pipelineMessageId(connection: string, sourceKey: string, partIndex: number): string {
  return createHash('sha256').update(`${connection}\u0000${sourceKey}\u0000${partIndex}`).digest('hex').slice(0, 32);
}
