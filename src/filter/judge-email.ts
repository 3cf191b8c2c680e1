/**
 * Whether a connection takes an email: every condition of its `filter` must hold. Pure, and
 * three-valued so it can run before the body is downloaded: a condition the facts cannot
 * decide yet (attachments not known, or not all known) is `undecided`, and the email is judged
 * again once split. Only a condition that certainly fails leaves an email out.
 */
import type { EmailConditions, FilterConfig } from '../config/filter-schema.ts';
import type { EmailFacts } from './email-facts.ts';
import { attachmentMatches, firstMatch } from './matches.ts';

/** The condition that decided, as the ledger, `preview`, status and metrics name it. */
export const FILTER_CONDITIONS = Object.freeze([
  'from',
  'to',
  'subject',
  'hasAttachments',
  'attachmentTypes',
  'maxSize',
  'minSize',
  'autoReplies',
  'bounces',
] as const);
export type FilterCondition = (typeof FILTER_CONDITIONS)[number];

export type Judgement =
  | { verdict: 'taken'; reason: string }
  | { verdict: 'left'; condition: FilterCondition; reason: string }
  | { verdict: 'undecided'; condition: FilterCondition; reason: string };

type Outcome = { holds: true } | { holds: false; reason: string } | { holds: 'unknown'; reason: string };

const HOLDS: Outcome = { holds: true };
const quoteList = (patterns: readonly string[]): string => patterns.map((p) => JSON.stringify(p)).join(', ');

/** Each condition of `conditions` the facts are checked against, in a fixed order. */
function* outcomes(conditions: EmailConditions, facts: EmailFacts): Generator<[FilterCondition, Outcome]> {
  if (conditions.from) {
    yield [
      'from',
      firstMatch(conditions.from, facts.from)
        ? HOLDS
        : { holds: false, reason: `sender ${facts.from ?? '(none)'} matches none of ${quoteList(conditions.from)}` },
    ];
  }
  if (conditions.to) {
    const patterns = conditions.to;
    yield [
      'to',
      facts.recipients.some((recipient) => firstMatch(patterns, recipient))
        ? HOLDS
        : facts.recipientsComplete === false
          ? { holds: 'unknown', reason: 'not every recipient known before the download' }
          : { holds: false, reason: `no recipient (${facts.recipients.join(', ') || 'none'}) matches ${quoteList(patterns)}` },
    ];
  }
  if (conditions.subject) {
    yield [
      'subject',
      firstMatch(conditions.subject, facts.subject ?? '')
        ? HOLDS
        : { holds: false, reason: `subject ${JSON.stringify(facts.subject ?? '')} matches none of ${quoteList(conditions.subject)}` },
    ];
  }
  if (conditions.maxSize !== undefined) {
    yield [
      'maxSize',
      facts.size === undefined
        ? { holds: 'unknown', reason: 'size not known yet' }
        : facts.size <= conditions.maxSize
          ? HOLDS
          : { holds: false, reason: `${facts.size} bytes, over maxSize (${conditions.maxSize} bytes)` },
    ];
  }
  if (conditions.minSize !== undefined) {
    yield [
      'minSize',
      facts.size === undefined
        ? { holds: 'unknown', reason: 'size not known yet' }
        : facts.size >= conditions.minSize
          ? HOLDS
          : { holds: false, reason: `${facts.size} bytes, under minSize (${conditions.minSize} bytes)` },
    ];
  }
  if (conditions.hasAttachments !== undefined) {
    const known = facts.attachments;
    const has = !!known && (known.list.length > 0 || known.some === true);
    let outcome: Outcome;
    if (!known) outcome = { holds: 'unknown', reason: 'attachments not known before the download' };
    else if (has === conditions.hasAttachments) outcome = HOLDS;
    else if (!has && !known.complete) outcome = { holds: 'unknown', reason: 'no attachment in the structure; the split may find some' };
    else if (has)
      outcome = { holds: false, reason: `has ${known.list.length ? `${known.list.length} attachment(s)` : 'an attachment'}; hasAttachments: false` };
    else outcome = { holds: false, reason: 'has no attachment; hasAttachments: true' };
    yield ['hasAttachments', outcome];
  }
  if (conditions.attachmentTypes) {
    const patterns = conditions.attachmentTypes;
    const known = facts.attachments;
    let outcome: Outcome;
    if (!known) outcome = { holds: 'unknown', reason: 'attachments not known before the download' };
    else if (known.list.some((attachment) => attachmentMatches(patterns, attachment))) outcome = HOLDS;
    else if (!known.complete) outcome = { holds: 'unknown', reason: 'no matching attachment in the structure; the split may find one' };
    else {
      const found = known.list.map((a) => a.filename ?? a.contentType).join(', ') || 'none';
      outcome = { holds: false, reason: `no attachment (${found}) matches ${quoteList(patterns)}` };
    }
    yield ['attachmentTypes', outcome];
  }
}

/** The verdict of `filter` (none: every email is taken) on what is known of an email. */
export function judgeEmail(filter: FilterConfig | undefined, facts: EmailFacts): Judgement {
  if (!filter) return { verdict: 'taken', reason: 'no filter' };
  if (filter.autoReplies === 'skip' && facts.autoReply) return { verdict: 'left', condition: 'autoReplies', reason: `auto-reply (${facts.autoReply})` };
  if (filter.bounces === 'skip' && facts.bounce) return { verdict: 'left', condition: 'bounces', reason: 'bounce (delivery-status report)' };
  let undecided: Judgement | undefined;
  for (const [condition, outcome] of outcomes(filter, facts)) {
    if (outcome.holds === false) return { verdict: 'left', condition, reason: outcome.reason };
    if (outcome.holds === 'unknown') undecided ??= { verdict: 'undecided', condition, reason: outcome.reason };
  }
  return undecided ?? { verdict: 'taken', reason: 'every filter condition holds' };
}

/** Whether the email conditions of a route's `when` hold (all facts known: after the split). */
export function emailConditionsHold(conditions: EmailConditions, facts: EmailFacts): boolean {
  for (const [, outcome] of outcomes(conditions, facts)) if (outcome.holds !== true) return false;
  return true;
}

/** The conditions that need the attachments, which only the split knows for certain. */
export function needsAttachments(conditions: EmailConditions | undefined): boolean {
  return !!conditions && (conditions.hasAttachments !== undefined || conditions.attachmentTypes !== undefined);
}
