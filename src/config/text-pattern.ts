/**
 * The patterns a filter or route compares text with: a glob (`*` any run of characters, `?` one
 * character, matched against the whole text, case-insensitive), or `/regex/flags` (a JavaScript
 * regular expression, searched anywhere in the text unless it anchors itself).
 */
import { z } from 'zod';

const REGEX_LITERAL = /^\/(.+)\/([a-z]*)$/s;

/** Whether `pattern` is written as `/regex/flags` rather than a glob. */
export function isRegexPattern(pattern: string): boolean {
  return REGEX_LITERAL.test(pattern);
}

/** `pattern` as a RegExp; throws with a message saying how to write it when it cannot be one. */
export function compilePattern(pattern: string): RegExp {
  const literal = REGEX_LITERAL.exec(pattern);
  if (literal) {
    try {
      return new RegExp(literal[1]!, literal[2]!.replace(/[gy]/g, ''));
    } catch (error) {
      throw new Error(`${pattern} is not a regular expression (${(error as Error).message}); write /regex/flags, or a glob such as "Invoice *"`);
    }
  }
  const source = pattern
    .split('')
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 'is');
}

/** One pattern, checked to compile. */
export const textPattern = z
  .string()
  .min(1, 'give a glob such as "*@example.com" or a /regex/flags')
  .superRefine((value, ctx) => {
    try {
      compilePattern(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
    }
  });

/** One pattern or a list of them (any one matching is enough); yields the list. */
export const textPatterns = z
  .union([textPattern, z.array(textPattern).min(1, 'give at least one pattern, or leave the field out')])
  .transform((value) => (Array.isArray(value) ? value : [value]));
