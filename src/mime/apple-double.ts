/**
 * multipart/appledouble (RFC 1740): a Macintosh file sent as two parts, first its header part
 * (application/applefile: the AppleDouble header, holding the Finder info, the real name and the
 * resource fork), then its data fork, which is the file everyone else uses. Postroom delivers the
 * data fork under its name and describes the header part in the envelope (type, creator, the
 * size of the resource fork) rather than delivering it: only Mac software can use a resource fork.
 *
 * The header (AppleSingle/AppleDouble version 2): magic 0x00051607, version, 16 filler bytes,
 * the number of entries, then per entry its id, offset and length (32-bit big-endian). Entry 2 is
 * the resource fork, 3 the real name, 9 the Finder info (type and creator, 4 bytes each).
 */
import type { AppleFileInfo } from '../model/envelope.ts';

export const APPLE_DOUBLE_TYPE = 'multipart/appledouble';
export const APPLE_FILE_TYPE = 'application/applefile';
/** The header and its entries other than the resource fork sit in the first bytes; the fork itself is only counted. */
export const APPLE_FILE_HEAD_BYTES = 64 * 1024;

const MAGIC_DOUBLE = 0x00051607;
const MAGIC_SINGLE = 0x00051600;
const ENTRY_RESOURCE_FORK = 2;
const ENTRY_REAL_NAME = 3;
const ENTRY_FINDER_INFO = 9;
const HEADER_BYTES = 26;
const ENTRY_BYTES = 12;

export interface AppleHeader {
  info: AppleFileInfo;
  realName?: string;
}

/** The AppleDouble header in `head`, or undefined when it is none. */
export function readAppleHeader(head: Buffer): AppleHeader | undefined {
  if (head.length < HEADER_BYTES) return undefined;
  const magic = head.readUInt32BE(0);
  if (magic !== MAGIC_DOUBLE && magic !== MAGIC_SINGLE) return undefined;
  const count = head.readUInt16BE(24);
  const info: AppleFileInfo = { type: null, creator: null, resourceForkBytes: 0 };
  let realName: string | undefined;
  for (let index = 0; index < count; index += 1) {
    const at = HEADER_BYTES + index * ENTRY_BYTES;
    if (at + ENTRY_BYTES > head.length) break;
    const id = head.readUInt32BE(at);
    const offset = head.readUInt32BE(at + 4);
    const length = head.readUInt32BE(at + 8);
    if (id === ENTRY_RESOURCE_FORK) info.resourceForkBytes = length;
    else if (id === ENTRY_REAL_NAME && offset + length <= head.length) realName = head.subarray(offset, offset + length).toString('latin1');
    else if (id === ENTRY_FINDER_INFO && length >= 8 && offset + 8 <= head.length) {
      info.type = fourCharCode(head.subarray(offset, offset + 4));
      info.creator = fourCharCode(head.subarray(offset + 4, offset + 8));
    }
  }
  return realName ? { info, realName } : { info };
}

function fourCharCode(bytes: Buffer): string | null {
  if (bytes.every((byte) => byte === 0)) return null;
  return bytes.toString('latin1');
}
