/**
 * S/MIME (RFC 8551) and PGP/MIME (RFC 3156) parts, as the splitter treats them:
 * - multipart/signed (both): split as usual, the signature part (smime.p7s, signature.asc) is an
 *   attachment of its own, and the envelope says `signed: { protocol }`;
 * - application/pkcs7-mime with smime-type=signed-data (opaque signing, 3.5.2): the signed MIME
 *   entity is inside the CMS structure (cms.ts); it is unwrapped and split like the email's own
 *   content, and the .p7m is delivered as it came;
 * - application/pkcs7-mime with smime-type=enveloped-data or authEnveloped-data, and
 *   multipart/encrypted: Postroom holds no keys, so the email is delivered whole as one
 *   'original' part and the envelope says `encrypted: true`.
 * A pkcs7-mime part without an smime-type (older clients) is told apart by its CMS content type.
 */

const PKCS7_MIME_TYPES: ReadonlySet<string> = new Set(['application/pkcs7-mime', 'application/x-pkcs7-mime']);
const ENCRYPTED_SMIME_TYPES: ReadonlySet<string> = new Set(['enveloped-data', 'authenveloped-data']);
/** The protocol the envelope names for opaque-signed S/MIME, which has no multipart/signed to take it from. */
export const OPAQUE_SIGNED_PROTOCOL = 'application/pkcs7-mime';
/** An opaque-signed .p7m is read into memory to unwrap it; a larger one is delivered as it came only. */
export const MAX_OPAQUE_SIGNED_BYTES = 64 * 1024 * 1024;
/** A signed entity inside a signed entity inside ...: real mail nests two (signed, then encrypted or signed again). */
export const MAX_SIGNED_NESTING = 4;

export function isPkcs7Mime(type: string): boolean {
  return PKCS7_MIME_TYPES.has(type);
}

/** What the smime-type parameter says: 'encrypted', 'signed' or undefined (absent or another type, such as certs-only). */
export function smimeTypeSays(params: Record<string, string>): 'encrypted' | 'signed' | 'unknown' | undefined {
  const type = params['smime-type']?.trim().toLowerCase();
  if (type === undefined || type === '') return 'unknown';
  if (ENCRYPTED_SMIME_TYPES.has(type)) return 'encrypted';
  return type === 'signed-data' ? 'signed' : undefined;
}
