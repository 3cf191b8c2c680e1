/**
 * What the API says of a check's steps. The API can point a check at any host the policy allows,
 * so until the login has succeeded a failed step never carries the server's own words (a banner,
 * an error reply): that would make the check a tool to read any TCP service's first line. It says
 * which step failed and the catalogue's short reason; `postroom check` on the server still prints
 * everything. (Passed steps are already in Postroom's words: the POP3 greeting names tokens only.)
 */
import { ERRORS } from '../model/errors.ts';
import type { CheckStep } from '../sources/source.ts';

/** Steps that prove Postroom is talking to a server the user holds credentials for. */
const SIGNED_IN = new Set<CheckStep['step']>(['login', 'token']);

/** Longest first, so "The server refused the login" is not read as a shorter message. */
const REASONS = Object.values(ERRORS)
  .map((entry) => entry.message)
  .sort((a, b) => b.length - a.length);

function shortReason(detail: string): string {
  return REASONS.find((message) => detail.startsWith(message)) ?? 'the server did not answer as expected';
}

/** Details in Postroom's own words: a passed step (the sources name protocol tokens only), and DNS or TCP failures. */
function ownWords(step: CheckStep): string | undefined {
  if (step.ok || step.step === 'dns' || step.step === 'tcp') return step.detail;
  return undefined;
}

export function apiCheckSteps(steps: CheckStep[]): CheckStep[] {
  let signedIn = false;
  return steps.map((step) => {
    if (signedIn) return step;
    if (step.ok && SIGNED_IN.has(step.step)) {
      signedIn = true;
      return step;
    }
    const detail =
      ownWords(step) ?? `${step.step} failed: ${shortReason(step.detail)} (the server's reply is not shown through the API; \`postroom check\` shows it)`;
    return { ...step, detail };
  });
}
