/**
 * Which emails a connection takes (`filter`), what happens on the server to those it does not
 * (`filtered`), which attachments become pipeline messages (`attachments`), and where each
 * pipeline message goes (`routes`). The engine judges with src/filter/; these only say what
 * may be written.
 */
import { z } from 'zod';
import { byteSize } from './byte-size.ts';
import { singleLine } from './single-line.ts';
import { textPattern, textPatterns } from './text-pattern.ts';

const skipOrInclude = z.enum(['skip', 'include'], { error: 'use skip (leave them out) or include (the default: take them like any email)' });

/** The conditions on the email as a whole, shared by `filter` and a route's `when`. */
const emailConditions = {
  from: textPatterns
    .optional()
    .describe('The sender\'s address matches any of these globs (case-insensitive) or /regex/flags, e.g. `["*@supplier.example", "billing@*"]`.'),
  to: textPatterns.optional().describe('Any recipient (To, Cc, Delivered-To) matches any of these globs or /regex/flags.'),
  subject: textPatterns
    .optional()
    .describe(
      'The subject matches any of these globs (whole subject, case-insensitive) or /regex/flags (searched), e.g. `["Invoice *", "/^(Rechnung|Factura)\\\\b/i"]`.',
    ),
  hasAttachments: z.boolean().optional().describe('`true`: only emails with at least one attachment; `false`: only emails without.'),
  attachmentTypes: textPatterns
    .optional()
    .describe('At least one attachment whose content type or file name matches one of these globs, e.g. `["application/pdf", "*.xml"]`.'),
  maxSize: byteSize.optional().describe('The email is at most this big: `25MB` (decimal), `20MiB` (binary) or a number of bytes.'),
  minSize: byteSize.optional().describe('The email is at least this big, written as `maxSize`.'),
};

export const filterSchema = z
  .object({
    ...emailConditions,
    autoReplies: skipOrInclude
      .default('include')
      .describe('`skip`: leave out auto-replies (out-of-office, vacation; `Auto-Submitted`, `X-Autoreply`, `Precedence: auto_reply|bulk|junk`).'),
    bounces: skipOrInclude.default('include').describe('`skip`: leave out bounces and delay notices (`multipart/report; report-type=delivery-status`).'),
  })
  .strict()
  .describe('An email is taken only when every condition given holds; the others are never emitted and are treated as `filtered` says.');

export const filteredSchema = z
  .union([
    z.enum(['leave', 'markRead', 'delete']),
    z
      .object({
        moveTo: singleLine(z.string().min(1, 'name the folder, e.g. moveTo: Skipped'), 'moveTo').describe(
          'The folder to move them to (IMAP: its name; Graph: a well-known name or a path).',
        ),
      })
      .strict(),
  ])
  .default('leave')
  .describe('What happens on the server to an email the filter does not take: `leave` (unread, where it is), `markRead`, `moveTo: Folder`, `delete`.');

export const filterOnServerSchema = z
  .boolean()
  .optional()
  .describe(
    "IMAP with `filtered: leave`: the server's SEARCH (FROM, TO/CC/Delivered-To, SUBJECT, SMALLER, LARGER) pre-selects the emails the filter could take, and Postroom judges those again; the others are left unread without their headers being read. Default on; `false` judges every email in Postroom, for a server whose SEARCH is wrong.",
  );

export const attachmentsSchema = z
  .array(textPattern)
  .min(1, 'give at least one pattern, or leave attachments out to take every attachment')
  .describe('Which attachments become pipeline messages, by content type or file name glob; `!` in front excludes (`["*", "!image/*"]`). Default: all.');

export const routeWhenSchema = z
  .object({
    kind: z.enum(['body', 'attachment', 'original']).optional().describe("The pipeline message's kind."),
    contentType: textPatterns.optional().describe("The part's content type matches one of these globs, e.g. `application/pdf`, `image/*`."),
    filename: textPatterns.optional().describe("The part's file name matches one of these globs, e.g. `*.xml`."),
    inline: z.boolean().optional().describe('`true`: only inline parts (images the HTML shows by `cid:`); `false`: only the others.'),
    ...emailConditions,
    autoReply: z.boolean().optional().describe('`true`: only parts of auto-replies; `false`: only parts of other emails.'),
    bounce: z.boolean().optional().describe('`true`: only parts of bounces and delay notices; `false`: only parts of other emails.'),
  })
  .strict()
  .describe('Every condition given must hold for the pipeline message (its own part, and its email).');

export const routeSchema = z
  .object({
    when: routeWhenSchema.prefault({}),
    destination: z.string().min(1, 'name a destination from destinations:').describe('The destination that takes the pipeline messages this route matches.'),
  })
  .strict();

export const routesSchema = z
  .array(routeSchema)
  .describe(
    'Each `{ when, destination }`, checked in order for each pipeline message: the first whose `when` holds names its destination (it must be defined under destinations:); the rest go to `destination`.',
  );

export type FilterConfig = z.output<typeof filterSchema>;
export type FilteredAction = z.output<typeof filteredSchema>;
export type RouteConfig = z.output<typeof routeSchema>;
export type RouteWhen = z.output<typeof routeWhenSchema>;
/** The email conditions `filter` and `when` share. */
export type EmailConditions = Pick<FilterConfig, keyof typeof emailConditions>;
