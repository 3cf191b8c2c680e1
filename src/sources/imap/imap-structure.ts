/**
 * The attachments an IMAP BODYSTRUCTURE names (RFC 3501 7.4.2), for a filter to judge before the
 * body is downloaded: every leaf part with an attachment disposition or a file name. The split
 * may find more (files inside a winmail.dat, uuencoded in the text), so this list is never the
 * last word on an attachment that is missing.
 */
import type { MessageStructureObject } from 'imapflow';
import type { AttachmentFact } from '../../filter/email-facts.ts';

export function structureAttachments(structure: MessageStructureObject): AttachmentFact[] {
  const found: AttachmentFact[] = [];
  const walk = (node: MessageStructureObject): void => {
    if (node.childNodes?.length) {
      for (const child of node.childNodes) walk(child);
      return;
    }
    const filename = node.dispositionParameters?.filename ?? node.parameters?.name ?? null;
    const disposition = node.disposition?.toLowerCase();
    if (disposition === 'attachment' || filename !== null) {
      found.push({ contentType: node.type.toLowerCase(), filename, inline: disposition === 'inline' });
    }
  };
  walk(structure);
  return found;
}
