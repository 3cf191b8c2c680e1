/**
 * multipart/report (RFC 6522): a human-readable part (the body), a machine-readable part and,
 * usually, the email the report is about (message/rfc822) or its headers (text/rfc822-headers).
 * The machine-readable part is read here, while it streams by like any other attachment:
 * - message/delivery-status (RFC 3464, bounces and delays): a block of per-message fields, then
 *   one block per recipient with Final-Recipient, Action, Status and Diagnostic-Code;
 * - message/disposition-notification (RFC 8098, read receipts): Final-Recipient,
 *   Original-Message-ID and Disposition (`manual-action/MDN-sent-manually; displayed`);
 * - message/feedback-report (RFC 5965, ARF abuse reports): Feedback-Type, Source-IP,
 *   Original-Mail-From.
 * The global variants of RFC 6533 (message/global-delivery-status, ...) read the same. Each of
 * these parts is a few hundred bytes; only its first REPORT_HEAD_BYTES are looked at.
 */
import type { EmailReport, ReportRecipient } from '../model/envelope.ts';

/** Real reports are well under this; a report with more recipients than fit is cut there. */
export const REPORT_HEAD_BYTES = 64 * 1024;
/** Recipients listed in one envelope, as for To and Cc (envelope-email.ts). */
const MAX_REPORT_RECIPIENTS = 100;

export type ReportPartKind = 'delivery-status' | 'disposition-notification' | 'feedback-report' | 'original';

const PART_KINDS: ReadonlyMap<string, ReportPartKind> = new Map([
  ['message/delivery-status', 'delivery-status'],
  ['message/global-delivery-status', 'delivery-status'],
  ['message/disposition-notification', 'disposition-notification'],
  ['message/global-disposition-notification', 'disposition-notification'],
  ['message/feedback-report', 'feedback-report'],
  ['message/rfc822', 'original'],
  ['message/global', 'original'],
  ['text/rfc822-headers', 'original'],
  ['message/global-headers', 'original'],
]);

/** What a part directly inside a multipart/report is, or undefined for the human-readable text. */
export function reportPartKind(contentType: string): ReportPartKind | undefined {
  return PART_KINDS.get(contentType);
}

/** Collects the report while its parts go by; `result()` once the email is read. */
export class ReportReader {
  readonly #type: string;
  #originalMessageId: string | null = null;
  #recipients: ReportRecipient[] | undefined;
  #disposition: EmailReport['disposition'];
  #feedback: EmailReport['feedback'];

  constructor(type: string) {
    this.#type = type;
  }

  read(kind: ReportPartKind, head: Buffer): void {
    const blocks = fieldBlocks(head.toString('utf8'));
    const first = blocks[0] ?? new Map<string, string>();
    if (kind === 'original') {
      this.#originalMessageId ??= first.get('message-id') ?? null;
    } else if (kind === 'delivery-status') {
      this.#recipients = blocks
        .slice(1)
        .map(recipientOf)
        .filter((recipient): recipient is ReportRecipient => recipient !== undefined)
        .slice(0, MAX_REPORT_RECIPIENTS);
    } else if (kind === 'disposition-notification') {
      const disposition = first.get('disposition');
      if (disposition !== undefined) {
        const [mode, type] = splitOnce(disposition, ';');
        this.#disposition = {
          type: (type ?? mode).trim().toLowerCase(),
          mode: type === undefined ? null : mode.trim(),
          recipient: address(first.get('final-recipient')),
        };
      }
      const original = first.get('original-message-id');
      if (original !== undefined) this.#originalMessageId = original;
    } else {
      const type = first.get('feedback-type');
      if (type !== undefined)
        this.#feedback = { type: type.toLowerCase(), sourceIp: first.get('source-ip') ?? null, originalMailFrom: first.get('original-mail-from') ?? null };
    }
  }

  result(): EmailReport {
    const report: EmailReport = { type: this.#type, originalMessageId: this.#originalMessageId };
    if (this.#recipients) report.recipients = this.#recipients;
    if (this.#disposition) report.disposition = this.#disposition;
    if (this.#feedback) report.feedback = this.#feedback;
    return report;
  }
}

function recipientOf(block: Map<string, string>): ReportRecipient | undefined {
  const recipient = address(block.get('final-recipient') ?? block.get('original-recipient'));
  if (recipient === null) return undefined;
  const status = /\d\.\d{1,3}\.\d{1,3}/.exec(block.get('status') ?? '');
  const entry: ReportRecipient = { recipient, action: block.get('action')?.toLowerCase().split(/[\s(]/)[0] ?? null, status: status ? status[0] : null };
  const diagnostic = block.get('diagnostic-code');
  if (diagnostic !== undefined) entry.diagnosticCode = diagnostic;
  return entry;
}

/** `rfc822; user@example.com` -> `user@example.com`. */
function address(value: string | undefined): string | null {
  if (value === undefined) return null;
  const [type, rest] = splitOnce(value, ';');
  const bare = (rest ?? type).trim().replace(/^<(.*)>$/, '$1');
  return bare === '' ? null : bare;
}

function splitOnce(value: string, separator: string): [string, string | undefined] {
  const at = value.indexOf(separator);
  return at === -1 ? [value, undefined] : [value.slice(0, at), value.slice(at + 1)];
}

/**
 * Header-style blocks separated by empty lines, each as field name (lowercase) -> unfolded value
 * (the first of a repeated field). The headers of a returned email read as the first block.
 */
export function fieldBlocks(text: string): Array<Map<string, string>> {
  const blocks: Array<Map<string, string>> = [];
  let current = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') {
      if (current.size > 0) blocks.push(current);
      current = new Map();
      last = undefined;
      continue;
    }
    if (/^[ \t]/.test(line) && last !== undefined) {
      current.set(last, `${current.get(last)!} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      last = undefined;
      continue;
    }
    const key = line.slice(0, colon).trim().toLowerCase();
    if (current.has(key)) {
      last = undefined;
      continue;
    }
    current.set(key, line.slice(colon + 1).trim());
    last = key;
  }
  if (current.size > 0) blocks.push(current);
  return blocks;
}
