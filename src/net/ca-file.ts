/**
 * Reads a CA bundle named by `tls.ca` in the config file. Only a regular file is read (never a
 * FIFO, a device such as /dev/zero, or a directory), opened without blocking, and only up to
 * MAX_CA_FILE_BYTES, so a wrong path is an error that says so rather than a stalled process.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { PostroomError } from '../model/errors.ts';

/** A bundle of every public root CA is about 220 KB; four times that is still plainly a CA file. */
export const MAX_CA_FILE_BYTES = 1024 * 1024;

export function isPemText(value: string): boolean {
  return value.includes('-----BEGIN');
}

export function readCaFile(path: string, field = 'tls.ca'): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw new PostroomError('CONFIG_INVALID', `${field}: cannot read the CA file ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, {
      hint: 'Give the path of a PEM file, or the PEM text itself.',
    });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile())
      throw new PostroomError('CONFIG_INVALID', `${field}: ${path} is not a regular file`, { hint: 'Give the path of a PEM file, or the PEM text itself.' });
    if (stat.size > MAX_CA_FILE_BYTES)
      throw new PostroomError('CONFIG_INVALID', `${field}: ${path} is ${stat.size} bytes, more than a CA file has (at most ${MAX_CA_FILE_BYTES})`);
    const buffer = Buffer.alloc(stat.size);
    let read = 0;
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, read);
      if (n === 0) break;
      read += n;
    }
    const text = buffer.subarray(0, read).toString('utf8');
    if (!isPemText(text)) throw new PostroomError('CONFIG_INVALID', `${field}: ${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    return text;
  } finally {
    closeSync(fd);
  }
}
