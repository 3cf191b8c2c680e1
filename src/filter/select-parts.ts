/**
 * Which attachments become pipeline messages (`attachments`), and which destination each
 * pipeline message goes to (`routes`: the first whose `when` holds, else the connection's).
 */
import type { RouteConfig } from '../config/filter-schema.ts';
import type { EmailFacts } from './email-facts.ts';
import { emailConditionsHold } from './judge-email.ts';
import { attachmentMatches, firstMatch } from './matches.ts';

export interface PartFacts {
  kind: 'body' | 'attachment' | 'original';
  contentType: string;
  filename: string | null;
  inline?: boolean;
}

/** `["application/pdf", "*.xml"]` takes those; `"!image/*"` leaves those out; only exclusions: all but those. */
export function attachmentSelected(patterns: readonly string[] | undefined, attachment: { contentType: string; filename: string | null }): boolean {
  if (!patterns) return true;
  const include = patterns.filter((pattern) => !pattern.startsWith('!'));
  const exclude = patterns.filter((pattern) => pattern.startsWith('!')).map((pattern) => pattern.slice(1));
  if (exclude.length && attachmentMatches(exclude, attachment)) return false;
  return include.length === 0 || attachmentMatches(include, attachment);
}

/** The destination of one pipeline message: the first route that matches, else `fallback`. */
export function routeOf(routes: readonly RouteConfig[], part: PartFacts, email: EmailFacts, fallback: string): string {
  for (const route of routes) {
    const when = route.when;
    if (when.kind !== undefined && when.kind !== part.kind) continue;
    if (when.contentType && !firstMatch(when.contentType, part.contentType)) continue;
    if (when.filename && !firstMatch(when.filename, part.filename)) continue;
    if (when.inline !== undefined && (part.inline ?? false) !== when.inline) continue;
    if (when.autoReply !== undefined && (email.autoReply !== null) !== when.autoReply) continue;
    if (when.bounce !== undefined && email.bounce !== when.bounce) continue;
    if (!emailConditionsHold(when, email)) continue;
    return route.destination;
  }
  return fallback;
}
