/** Text against a connection's patterns, compiled once per pattern list. */
import { compilePattern } from '../config/text-pattern.ts';

const compiled = new Map<string, RegExp>();

function regexOf(pattern: string): RegExp {
  let regex = compiled.get(pattern);
  if (!regex) {
    regex = compilePattern(pattern);
    // Patterns come from configurations, a bounded set; the cap only guards a long-running API.
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(pattern, regex);
  }
  return regex;
}

/** The first pattern `text` matches, or undefined. */
export function firstMatch(patterns: readonly string[], text: string | null | undefined): string | undefined {
  if (text === null || text === undefined) return undefined;
  return patterns.find((pattern) => regexOf(pattern).test(text));
}

/** An attachment matches a type pattern by its content type or its file name. */
export function attachmentMatches(patterns: readonly string[], attachment: { contentType: string; filename: string | null }): boolean {
  return firstMatch(patterns, attachment.contentType) !== undefined || firstMatch(patterns, attachment.filename) !== undefined;
}
