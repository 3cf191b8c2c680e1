/**
 * Which parts the HTML body shows inline: every `cid:` URL (RFC 2392) it references.
 */

/** Same bound mailparser uses for a cid: reference; real Content-IDs are far shorter. */
const MAX_CID_LENGTH = 256;
const CID_URL = new RegExp(`\\bcid:([^'"\\s)>]{1,${MAX_CID_LENGTH}})`, 'gi');

/** The Content-IDs (without angle brackets) the HTML references. */
export function cidReferences(html: string | undefined): ReadonlySet<string> {
  const found = new Set<string>();
  if (!html) return found;
  for (const match of html.matchAll(CID_URL)) {
    const reference = match[1] ?? '';
    found.add(reference);
    // RFC 2392 URL-encodes the Content-ID inside the URL (cid:logo%40example.com).
    found.add(percentDecoded(reference));
  }
  return found;
}

/** `<logo@example.com>` → `logo@example.com`. */
export function bareContentId(contentId: string | undefined): string | undefined {
  const bare = contentId?.trim().replace(/^<|>$/g, '').trim();
  return bare ? bare : undefined;
}

function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
