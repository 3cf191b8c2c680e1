/**
 * Secrets at rest: the passwords, client secrets, refresh tokens and private keys of connections
 * created through the API are stored encrypted with AES-256-GCM under a key from the environment
 * (POSTROOM_SECRET_KEY), never in the store itself. Each value carries the id of its key, so a
 * key can be rotated: set the new key, keep the old one in POSTROOM_SECRET_KEY_PREVIOUS for one
 * start (rows are re-encrypted under the new key then), and drop it.
 *
 * A sealed value is one string: `enc:v1:<key id>:<iv>:<auth tag>:<ciphertext>` (base64url).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { PostroomError } from '../errors.ts';

export const SECRET_KEY_ENV = 'POSTROOM_SECRET_KEY';
export const PREVIOUS_SECRET_KEY_ENV = 'POSTROOM_SECRET_KEY_PREVIOUS';
/** What to tell a user who has no key yet. */
export const MAKE_A_KEY = `set ${SECRET_KEY_ENV} to 32 random bytes, e.g. export ${SECRET_KEY_ENV}=$(openssl rand -hex 32), and restart Postroom (keep the key: stored secrets cannot be read without it)`;

/** AES-256 takes a 256-bit key. */
const KEY_BYTES = 32;
/** GCM's standard 96-bit nonce, random per value: far below the 2^32 values per key where random nonces start to risk a repeat. */
const IV_BYTES = 12;
const SEALED = /^enc:v1:([0-9a-f]{8}):([A-Za-z0-9_-]+):([A-Za-z0-9_-]+):([A-Za-z0-9_-]*)$/;
const ALGORITHM = 'aes-256-gcm';

interface Key {
  id: string;
  bytes: Buffer;
}

/** The id stored with each value: the first 8 hex digits of the key's SHA-256 (names the key, reveals nothing usable). */
export function keyIdOf(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 8);
}

function parseKey(variable: string, text: string): Key {
  const trimmed = text.trim();
  let bytes: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) bytes = Buffer.from(trimmed, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) bytes = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (!bytes || bytes.length !== KEY_BYTES) {
    throw new PostroomError('CONFIG_INVALID', `${variable} must be 32 bytes written as 64 hex digits or as base64 (44 characters)`, { hint: 'Make one with: openssl rand -hex 32' });
  }
  return { id: keyIdOf(bytes), bytes };
}

export function isSealed(value: unknown): value is string {
  return typeof value === 'string' && SEALED.test(value);
}

/** The key id a sealed value needs. */
export function sealedKeyId(value: string): string | undefined {
  return SEALED.exec(value)?.[1];
}

export class SecretBox {
  private readonly keys: Key[];

  constructor(
    private readonly current: Key | undefined,
    previous?: Key,
  ) {
    this.keys = [current, previous].filter((key): key is Key => key !== undefined);
  }

  /** The key ids that can be read, current first. */
  get keyIds(): string[] {
    return this.keys.map((key) => key.id);
  }

  get canSeal(): boolean {
    return this.current !== undefined;
  }

  seal(plain: string): string {
    if (!this.current) throw new PostroomError('SECRET_KEY_MISSING', 'a secret cannot be stored without a key', { hint: MAKE_A_KEY });
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.current.bytes, iv);
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `enc:v1:${this.current.id}:${iv.toString('base64url')}:${cipher.getAuthTag().toString('base64url')}:${data.toString('base64url')}`;
  }

  /** The plain text of a sealed value; a value that is not sealed (a row from before encryption) is returned as is. */
  open(value: string): string {
    const parts = SEALED.exec(value);
    if (!parts) return value;
    const [, id, iv, tag, data] = parts as unknown as [string, string, string, string, string];
    const key = this.keys.find((k) => k.id === id);
    if (!key) {
      throw new PostroomError('SECRET_KEY_UNKNOWN', `it needs the key with id ${id}; ${this.keys.length ? `the keys set have id ${this.keyIds.join(', ')}` : `${SECRET_KEY_ENV} is not set`}`, {
        hint: `Set ${SECRET_KEY_ENV} (or ${PREVIOUS_SECRET_KEY_ENV} while rotating) to the key it was stored with, or give the secret again.`,
      });
    }
    try {
      const decipher = createDecipheriv(ALGORITHM, key.bytes, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
    } catch (error) {
      throw new PostroomError('SECRET_KEY_UNKNOWN', `a value sealed with key ${id} does not decrypt (altered in the store?)`, { cause: error, hint: 'Give the secret again.' });
    }
  }

  /** True when the value should be written again: plain text, or sealed under a key that is not the current one. */
  needsReseal(value: string): boolean {
    return this.current !== undefined && sealedKeyId(value) !== this.current.id;
  }
}

/** The box for POSTROOM_SECRET_KEY (and POSTROOM_SECRET_KEY_PREVIOUS); a malformed key is an error at start-up. */
export function secretBoxFromEnv(env: NodeJS.ProcessEnv = process.env): SecretBox {
  const current = env[SECRET_KEY_ENV] ? parseKey(SECRET_KEY_ENV, env[SECRET_KEY_ENV]) : undefined;
  const previous = env[PREVIOUS_SECRET_KEY_ENV] ? parseKey(PREVIOUS_SECRET_KEY_ENV, env[PREVIOUS_SECRET_KEY_ENV]) : undefined;
  if (previous && !current) throw new PostroomError('CONFIG_INVALID', `${PREVIOUS_SECRET_KEY_ENV} is set but ${SECRET_KEY_ENV} is not`, { hint: 'Set the new key in POSTROOM_SECRET_KEY; the previous one is only for reading old rows.' });
  return new SecretBox(current, previous);
}
