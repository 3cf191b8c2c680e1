/** The Dead letters page's words and grouping, as pure functions (the email trail's Replay uses replayMessage too). */
import type { DeadLetterView, DiscardResult, ReplayResult } from '../../schemas.ts';
import { clock } from './format.ts';

/** Dead letters a page shows. */
export const PAGE_SIZE = 50;

/** What the replay did, in words: delivered, or failed again with the reason and the next attempt. */
export function replayMessage(result: ReplayResult): string {
  if (result.replayed === 0) return 'Nothing to replay.';
  if (result.replayed === 1) {
    const [one] = result.results;
    if (one?.outcome === 'delivered') return 'Replayed: delivered.';
    if (one?.outcome === 'content-gone') return `Not replayed: ${one.error ?? 'its content is gone'}.`;
    if (one?.outcome === 'not-found') return 'Not replayed: it is no longer in the outbox.';
    if (one?.outcome === 'failed')
      return `Replayed, but it failed again: ${one.error ?? 'no reason given'}. ${one.nextAttemptAt ? `Next attempt ${clock(one.nextAttemptAt)}.` : 'Only a replay will try again.'}`;
    return 'Replayed: due now, a worker delivers it.';
  }
  const firstFailure = result.results.find((r) => r.outcome === 'failed');
  const queued = result.replayed - result.delivered - result.failed;
  return `Replayed ${result.replayed}: ${result.delivered} delivered, ${result.failed} failed again${queued ? `, ${queued} due now` : ''}.${firstFailure ? ` First failure: ${firstFailure.error ?? 'no reason given'}.` : ''}`;
}

/** What the discard did, in words. */
export function discardMessage(result: DiscardResult): string {
  const done =
    result.discarded === 0
      ? 'Nothing was discarded.'
      : `Discarded ${result.discarded === 1 ? '1 dead letter' : `${result.discarded} dead letters`}: Postroom will not try ${result.discarded === 1 ? 'it' : 'them'} again. The email’s trail keeps a note of it.`;
  const left = result.notDiscarded.length ? ` ${result.notDiscarded.length} could not be discarded: already gone, or being delivered right now.` : '';
  return done + left;
}

/** "Showing 51–100 of 312". */
export function showing(offset: number, shown: number, total: number): string {
  if (total === 0) return 'No dead letters.';
  return `Showing ${shown ? offset + 1 : 0}–${offset + shown} of ${total}`;
}

/** The dead letters of one email, as they come on the page (side by side). */
export interface EmailGroup {
  email: string;
  rows: DeadLetterView[];
}

/** Within an email, the text first, then the attachments, then the whole email (the API's order within an email is arbitrary). */
const KIND_ORDER: Record<string, number> = { body: 0, attachment: 1, original: 2 };

export function groupByEmail(items: readonly DeadLetterView[]): EmailGroup[] {
  const groups: EmailGroup[] = [];
  for (const item of items) {
    const last = groups.at(-1);
    if (last?.email === item.email) last.rows.push(item);
    else groups.push({ email: item.email, rows: [item] });
  }
  for (const group of groups) group.rows.sort((a, b) => (KIND_ORDER[a.kind] ?? 3) - (KIND_ORDER[b.kind] ?? 3));
  return groups;
}

/**
 * A dead letter's reason in the page's words: the destination's answer and address stay as they
 * are; Postroom's own terms and the command-line hint become what the page offers. The Details
 * dialog shows the reason exactly as stored.
 */
export function plainReason(reason: string | null): string {
  if (!reason) return 'No reason was recorded.';
  return reason
    .replace(/,? then replay with `postroom dead-letters replay`/g, ', then press Replay')
    .replace(/replay with `postroom dead-letters replay`/g, 'press Replay')
    .replace(/\bthe pipeline messages\b/g, 'these parts of the email')
    .replace(/\bthe pipeline message\b/g, 'this part of the email')
    .replace(/\bpipeline messages\b/g, 'parts of emails')
    .replace(/\bpipeline message\b/g, 'part of an email')
    .replace(/\. fix /g, '. Fix ');
}
