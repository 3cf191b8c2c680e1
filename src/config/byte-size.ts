import { z } from 'zod';

/**
 * Sizes as people write them: `KB`, `MB`, `GB` are decimal (1 MB = 1,000,000 bytes, as mail
 * providers state their limits), `KiB`, `MiB`, `GiB` binary; a bare number is bytes.
 */
const UNIT_BYTES: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};
const SIZE = /^(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?$/i;

/** Parses "25MB", "500KiB", "1024"; returns bytes. */
export function parseByteSize(value: string | number): number {
  if (typeof value === 'number') return Math.round(value);
  const match = SIZE.exec(value.trim());
  if (!match) throw new Error(`"${value}" is not a size: write a number with a unit, e.g. 500KB, 25MB, 2GiB (or a number of bytes)`);
  return Math.round(Number(match[1]) * UNIT_BYTES[(match[2] ?? 'b').toLowerCase()]!);
}

/** A zod field for sizes: "25MB"-style text or a number of bytes; yields bytes. */
export const byteSize = z.union([z.number().int().nonnegative(), z.string()]).transform((value, ctx) => {
  try {
    return parseByteSize(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});
