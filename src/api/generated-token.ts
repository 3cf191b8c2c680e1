/**
 * The API token `postroom run` makes when api.token is not set and the store is SQLite: random,
 * kept in the data directory in a file only its owner can read, reused on every later start.
 * Its path is logged, never its value. (A PostgreSQL store has no data directory that is surely
 * this machine's own, so it gets none and stays open on loopback only.)
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PostroomError } from '../model/errors.ts';
import { MIN_EXPOSED_TOKEN_LENGTH } from './listen-address.ts';

export const API_TOKEN_FILE = 'api-token';
/** 32 random bytes: 64 hex characters, 256 bits, twice MIN_EXPOSED_TOKEN_LENGTH. */
const TOKEN_BYTES = 32;
/** Owner read/write only: the token opens the whole API. */
const FILE_MODE = 0o600;

export interface GeneratedToken {
  token: string;
  path: string;
  /** True on the start that made it. */
  created: boolean;
}

async function readToken(path: string): Promise<string> {
  const token = (await readFile(path, 'utf8')).trim();
  if (token.length < MIN_EXPOSED_TOKEN_LENGTH) {
    throw new PostroomError('CONFIG_INVALID', `the API token file ${path} holds no token of ${MIN_EXPOSED_TOKEN_LENGTH}+ characters`, {
      hint: 'delete it to have a new one made, or set api.token',
    });
  }
  // Someone widened the file's permissions: narrow them again rather than serve a readable token.
  if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, FILE_MODE);
  return token;
}

export async function loadOrCreateApiToken(dataDir: string): Promise<GeneratedToken> {
  const path = join(dataDir, API_TOKEN_FILE);
  try {
    return { token: await readToken(path), path, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const token = randomBytes(TOKEN_BYTES).toString('hex');
  try {
    // wx: two processes starting at once on one data directory agree on the first one's token.
    await writeFile(path, `${token}\n`, { flag: 'wx', mode: FILE_MODE });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return { token: await readToken(path), path, created: false };
    throw error;
  }
  return { token, path, created: true };
}
