/**
 * A certificate credential for the Microsoft identity platform: a JWT client assertion signed with
 * the certificate's private key (learn.microsoft.com "Microsoft identity platform application
 * authentication certificate credentials"). A SHA-1 thumbprint (40 hex) goes in `x5t` with RS256;
 * a SHA-256 one (64 hex) in `x5t#S256` with PS256, as the platform now prefers.
 */
import { constants, createPrivateKey, randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PostroomError } from '../model/errors.ts';

/** Lifetime of one assertion: it is used once, right away; ten minutes absorbs clock skew. */
const ASSERTION_LIFETIME_S = 600;

const SHA1_HEX = /^[0-9a-f]{40}$/i;
const SHA256_HEX = /^[0-9a-f]{64}$/i;

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

function base64url(value: Buffer | string): string {
  return Buffer.from(value).toString('base64url');
}

/** certificate.privateKey may be PEM text or a path to a PEM file. */
function privateKeyOf(pemOrPath: string): ReturnType<typeof createPrivateKey> {
  const pem = pemOrPath.includes('-----BEGIN') ? pemOrPath : readFileSync(pemOrPath, 'utf8');
  try {
    return createPrivateKey(pem);
  } catch (error) {
    throw new PostroomError('CONFIG_INVALID', 'certificate.privateKey is not a readable PEM private key', {
      cause: error,
      hint: 'Give the PEM text (-----BEGIN PRIVATE KEY-----) or the path of a PEM file.',
    });
  }
}

export function clientAssertion(options: { clientId: string; tokenUrl: string; thumbprint: string; privateKey: string; now: number }): string {
  const thumbprint = options.thumbprint.replace(/[:\s]/g, '');
  const sha256 = SHA256_HEX.test(thumbprint);
  if (!sha256 && !SHA1_HEX.test(thumbprint)) {
    throw new PostroomError('CONFIG_INVALID', "certificate.thumbprint must be the certificate's SHA-1 (40 hex digits) or SHA-256 (64 hex digits) thumbprint");
  }
  const header = sha256
    ? { alg: 'PS256', typ: 'JWT', 'x5t#S256': base64url(Buffer.from(thumbprint, 'hex')) }
    : { alg: 'RS256', typ: 'JWT', x5t: base64url(Buffer.from(thumbprint, 'hex')) };
  const issuedAt = Math.floor(options.now / 1000);
  const payload = {
    aud: options.tokenUrl,
    iss: options.clientId,
    sub: options.clientId,
    jti: randomUUID(),
    nbf: issuedAt,
    iat: issuedAt,
    exp: issuedAt + ASSERTION_LIFETIME_S,
  };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  const key = privateKeyOf(options.privateKey);
  const signature = sha256
    ? sign('sha256', Buffer.from(signingInput), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
    : sign('sha256', Buffer.from(signingInput), key);
  return `${signingInput}.${base64url(signature)}`;
}
