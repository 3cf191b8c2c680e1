/**
 * UID sets for IMAP commands, kept short. A command line has a length limit on the server
 * (Dovecot's `imap_max_line_length`, 64 KB by default, answers "BAD Too long argument" past it),
 * and 100,000 UIDs written out one by one are 600 KB. So consecutive UIDs become ranges
 * (`1:5,7,9:12`, the sequence-set syntax of RFC 3501 section 9) and a long list is split into
 * several commands of at most UIDS_PER_COMMAND UIDs each: under 8 KB however scattered they are.
 */

export const UIDS_PER_COMMAND = 1_000;

/** `uids` (ascending) as one sequence set: runs of consecutive UIDs as `first:last`. */
export function uidSet(uids: readonly number[]): string {
  const parts: string[] = [];
  for (let at = 0; at < uids.length; ) {
    let end = at;
    while (end + 1 < uids.length && uids[end + 1] === uids[end]! + 1) end += 1;
    parts.push(end === at ? String(uids[at]) : `${uids[at]}:${uids[end]}`);
    at = end + 1;
  }
  return parts.join(',');
}

/** The sets of one command each, in order. */
export function uidSets(uids: readonly number[], perCommand = UIDS_PER_COMMAND): string[] {
  const sets: string[] = [];
  for (let at = 0; at < uids.length; at += perCommand) sets.push(uidSet(uids.slice(at, at + perCommand)));
  return sets;
}
