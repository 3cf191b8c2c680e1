/**
 * A full disk, however it shows: ENOSPC or a quota (EDQUOT) from the file system, SQLITE_FULL
 * from SQLite, SQLSTATE 53100 (disk_full) from PostgreSQL. Each layer that knows the path it
 * wrote to turns it into one DISK_FULL error naming that path, so the user is told which disk
 * to free rather than blaming the mail server.
 */
import { PostroomError } from './errors.ts';

const DISK_FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL', '53100']);

/** True when `error`, or anything in its cause chain, says a disk is full. */
export function isDiskFull(error: unknown): boolean {
  for (let at = error, depth = 0; at && typeof at === 'object' && depth < 8; at = (at as { cause?: unknown }).cause, depth += 1) {
    if (at instanceof PostroomError) {
      if (at.code === 'DISK_FULL') return true;
      continue;
    }
    const code = (at as { code?: unknown }).code;
    if (typeof code === 'string' && DISK_FULL_CODES.has(code)) return true;
  }
  return false;
}

/**
 * `what` is full at `path`: e.g. ('the content directory', '/var/lib/postroom/content').
 * `hint` says what happened to the work in hand (nothing was lost) and what to do.
 */
export function diskFullError(error: unknown, what: string, path: string, hint: string): PostroomError {
  if (error instanceof PostroomError && error.code === 'DISK_FULL') return error;
  return new PostroomError('DISK_FULL', `${what} ${path} has no space left`, { cause: error, hint: `${hint}; free space on ${path}` });
}

/** What the intake says when it could not keep an email: nothing acknowledged, fetched again. */
export const INTAKE_KEPT_NOTHING =
  'Nothing was lost: no email is acknowledged on the server before it is stored, so they stay there and are fetched again on the next poll';
