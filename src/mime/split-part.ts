/**
 * What splitting an email produces: one part per pipeline message, each already written to the
 * content store. Exported again from split-email.ts, the module's entry point.
 */
import type { Readable } from 'node:stream';
import type { AppleFileInfo, EnvelopeEmail, PartKind } from '../model/envelope.ts';

export interface SplitOptions {
  sendMessageBody: boolean;
  sendAttachments: boolean;
  /**
   * Opens the same raw email again from the start. Used only to keep the whole email as an
   * 'original' part when it cannot be split; without it, splitEmail first copies the raw email
   * into the content store so that it still has it then.
   */
  reopen?: () => Readable;
  /** The raw email's size in bytes, when known: a large email's body is streamed rather than held. */
  size?: number;
  /** At most this many parts (the body and TNEF children included); beyond it the original is kept as well. Default 500. */
  maxParts?: number;
}

export interface SplitPart {
  kind: PartKind;
  /** body = 0; attachments 1..N in MIME order; 'original' = 0. Pipeline message ids derive from it. */
  partIndex: number;
  /** UTF-8, decoded; 'body.txt' or 'body.html' for the body, 'original.eml' for the original. */
  filename: string;
  contentType: string;
  contentRef: string;
  size: number;
  sha256: string;
  /** Attachments: shown by the HTML body through a cid: URL. */
  inline?: boolean;
  /** Attachments: the Content-ID without angle brackets. */
  contentId?: string;
  /** Calendar attachments: the iTIP method (REQUEST, CANCEL, ...). */
  method?: string;
  /** 'original' only: why the email could not be split. */
  parseError?: string;
  /** Attachments: a Content-Transfer-Encoding Postroom does not decode; the bytes are as they came. */
  undecodedEncoding?: string;
  /** Attachments: the data fork of a multipart/appledouble, described by its header part. */
  appleFile?: AppleFileInfo;
}

export interface SplitResult {
  email: EnvelopeEmail;
  parts: SplitPart[];
}
