/**
 * Secrets at rest: the passwords, client secrets, refresh tokens and private keys of connections
 * created through the API are sealed with AES-256-GCM before they reach the store, under a key
 * from the environment (`POSTROOM_SECRET_KEY`, 32 bytes as 64 hex digits or base64). Each sealed
 * value names the key it was sealed with (the first 8 hex digits of the key's SHA-256), so a key
 * can be rotated: set the new key, and the old one as `POSTROOM_SECRET_KEY_PREVIOUS` until every
 * row has been re-sealed (Postroom re-seals rows under the current key when it opens the store).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { PostroomError } from '../model/errors.ts';

/** What a sealed value starts with; anything else in a secret field is plain text from before encryption. */
export const SEALED_PREFIX = 'enc:v1:';
const KEY_BYTES = 32;
/** 96-bit nonces, GCM's native size; random per value, so the same password seals differently each time. */
const IV_BYTES = 12;

export const SECRET_KEY_HINT =
  'Set POSTROOM_SECRET_KEY to 32 random bytes, e.g. `export POSTROOM_SECRET_KEY=$(openssl rand -hex 32)`, and keep it with your other secrets: without it the stored secrets cannot be read.';

interface Key {
  id: string;
  bytes: Buffer;
}

function parseKey(name: string, text: string): Key {
  const trimmed = text.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (bytes.length !== KEY_BYTES) {
    throw new PostroomError('CONFIG_INVALID', `${name} must be 32 bytes, as 64 hex digits or base64 (it is ${bytes.length} bytes)`, { hint: SECRET_KEY_HINT });
  }
  return { id: createHash('sha256').update(bytes).digest('hex').slice(0, 8), bytes };
}

export function isSealed(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(SEALED_PREFIX);
}

/** The key id a sealed value needs. */
export function keyIdOf(sealed: string): string {
  return sealed.slice(SEALED_PREFIX.length).split(':')[0] ?? '';
}

export class SecretBox {
  private readonly keys: Map<string, Key>;

  private constructor(
    private readonly current: Key | undefined,
    previous: Key | undefined,
  ) {
    this.keys = new Map([current, previous].filter((key): key is Key => key !== undefined).map((key) => [key.id, key]));
  }

  /** From POSTROOM_SECRET_KEY (and POSTROOM_SECRET_KEY_PREVIOUS); without one, `canSeal` is false. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): SecretBox {
    const current = env.POSTROOM_SECRET_KEY ? parseKey('POSTROOM_SECRET_KEY', env.POSTROOM_SECRET_KEY) : undefined;
    const previous = env.POSTROOM_SECRET_KEY_PREVIOUS ? parseKey('POSTROOM_SECRET_KEY_PREVIOUS', env.POSTROOM_SECRET_KEY_PREVIOUS) : undefined;
    return new SecretBox(current, previous);
  }

  get canSeal(): boolean {
    return this.current !== undefined;
  }

  /** The current key's id, for messages. */
  get keyId(): string | undefined {
    return this.current?.id;
  }

  /** True when the value must be re-sealed under the current key (plain text, or an older key). */
  needsSealing(value: string): boolean {
    return this.current !== undefined && (!isSealed(value) || keyIdOf(value) !== this.current.id);
  }

  seal(plain: string): string {
    if (!this.current) throw new PostroomError('SECRET_KEY_MISSING', undefined, { hint: SECRET_KEY_HINT });
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.bytes, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${SEALED_PREFIX}${this.current.id}:${iv.toString('base64')}:${cipher.getAuthTag().toString('base64')}:${body.toString('base64')}`;
  }

  /** Plain text as it is (a row from before encryption); a sealed value opened with the key it names. */
  open(value: string): string {
    if (!isSealed(value)) return value;
    const [id, iv, tag, body] = value.slice(SEALED_PREFIX.length).split(':');
    const key = this.keys.get(id ?? '');
    if (!key || iv === undefined || tag === undefined || body === undefined) {
      throw new PostroomError('SECRET_KEY_UNKNOWN', `the secret was sealed with key ${id}; the key given is ${this.current?.id ?? 'none'}`, {
        hint: 'Set POSTROOM_SECRET_KEY (or POSTROOM_SECRET_KEY_PREVIOUS while rotating) to the key the secrets were stored with.',
      });
    }
    const decipher = createDecipheriv('aes-256-gcm', key.bytes, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
  }
}
