/**
 * Errors across a thread boundary. A worker thread's error reaches the main thread as a plain
 * Error (structured clone keeps only name, message and stack), which would lose what the pickup
 * decides by: a PostroomError's code and flags (DISK_FULL, retryable) and a file-system error's
 * `code` (ENOSPC). They travel as data and are made again on this side.
 */
import { type ErrorCode, PostroomError } from '../model/errors.ts';

export type ErrorData =
  | {
      postroom: true;
      code: ErrorCode;
      message: string;
      retryable: boolean;
      retryAfterMs?: number;
      serverResponse?: string;
      hint?: string;
      stack?: string;
    }
  | { postroom: false; name: string; message: string; code?: string; errno?: number; syscall?: string; path?: string; stack?: string };

export function errorToData(error: unknown): ErrorData {
  if (error instanceof PostroomError) {
    const data: ErrorData = { postroom: true, code: error.code, message: error.message, retryable: error.retryable };
    if (error.retryAfterMs !== undefined) data.retryAfterMs = error.retryAfterMs;
    if (error.serverResponse !== undefined) data.serverResponse = error.serverResponse;
    if (error.hint !== undefined) data.hint = error.hint;
    if (error.stack !== undefined) data.stack = error.stack;
    return data;
  }
  const plain = (error instanceof Error ? error : new Error(String(error))) as NodeJS.ErrnoException;
  const data: ErrorData = { postroom: false, name: plain.name, message: plain.message };
  if (typeof plain.code === 'string') data.code = plain.code;
  if (typeof plain.errno === 'number') data.errno = plain.errno;
  if (typeof plain.syscall === 'string') data.syscall = plain.syscall;
  if (typeof plain.path === 'string') data.path = plain.path;
  if (plain.stack !== undefined) data.stack = plain.stack;
  return data;
}

export function errorFromData(data: ErrorData): Error {
  if (data.postroom) {
    const options = {
      retryable: data.retryable,
      ...(data.retryAfterMs !== undefined ? { retryAfterMs: data.retryAfterMs } : {}),
      ...(data.serverResponse !== undefined ? { serverResponse: data.serverResponse } : {}),
      ...(data.hint !== undefined ? { hint: data.hint } : {}),
    };
    const error = new PostroomError(data.code, undefined, options);
    error.message = data.message;
    if (data.stack !== undefined) error.stack = data.stack;
    return error;
  }
  const error = new Error(data.message) as NodeJS.ErrnoException;
  error.name = data.name;
  if (data.code !== undefined) error.code = data.code;
  if (data.errno !== undefined) error.errno = data.errno;
  if (data.syscall !== undefined) error.syscall = data.syscall;
  if (data.path !== undefined) error.path = data.path;
  if (data.stack !== undefined) error.stack = data.stack;
  return error;
}
