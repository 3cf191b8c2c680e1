/**
 * The secret fields of a connection as stored (see SECRET_KEYS): sealed on the way into the store
 * and opened on the way out, so the rest of the registry works with the connection as written.
 */
import { isSealed, type SecretBox } from '../store/secret-box.ts';
import { isSecretKey } from './connection-input.ts';
import { isPlainObject } from './validation.ts';

/** A copy of `input` with every secret string passed through `change` (top level and one block down: oauth2, certificate). */
function mapSecrets(input: Record<string, unknown>, change: (value: string) => string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (isSecretKey(key) && typeof value === 'string') out[key] = change(value);
    else if (isPlainObject(value) && (key === 'oauth2' || key === 'certificate')) out[key] = mapSecrets(value, change);
    else out[key] = value;
  }
  return out;
}

export function secretsOf(input: Record<string, unknown>): string[] {
  const found: string[] = [];
  mapSecrets(input, (value) => {
    found.push(value);
    return value;
  });
  return found;
}

/** Seals every secret; throws SECRET_KEY_MISSING when there is one to seal and no key. */
export function sealSecrets(input: Record<string, unknown>, box: SecretBox): Record<string, unknown> {
  return mapSecrets(input, (value) => (isSealed(value) && !box.needsSealing(value) ? value : box.seal(box.open(value))));
}

/** Opens every sealed secret; throws SECRET_KEY_UNKNOWN when one needs a key that is not set. */
export function openSecrets(stored: Record<string, unknown>, box: SecretBox): Record<string, unknown> {
  return mapSecrets(stored, (value) => box.open(value));
}

/** True when a stored row holds a secret that is plain text or sealed under an older key. */
export function needsResealing(stored: Record<string, unknown>, box: SecretBox): boolean {
  return box.canSeal && secretsOf(stored).some((value) => box.needsSealing(value));
}
