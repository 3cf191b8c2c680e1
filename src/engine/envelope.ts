/**
 * The pipeline message: what Postroom emits. One email yields up to 1 + N of them, its body
 * and each attachment, each with a deterministic id so a redelivery carries the same id.
 */
import { createHash } from 'node:crypto';
import type { SourceKey } from '../sources/source.ts';

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
}

/**
 * sha256 of connection, source key and part index; 32 hex characters (128 bits) is plenty to
 * never collide and short enough for file names and broker headers.
 */
export function pipelineMessageId(connection: string, sourceKey: string, partIndex: number): string {
  return createHash('sha256').update(`${connection}\u0000${sourceKey}\u0000${partIndex}`).digest('hex').slice(0, 32);
}
