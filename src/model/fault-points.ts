/**
 * TEST HOOK, not a feature: lets the crash tests kill a worker at an exact step of the pickup
 * and delivery sequence, to prove that a crash there neither loses nor duplicates an email.
 *
 *   POSTROOM_FAULT=<step>      the process SIGKILLs itself the first time it reaches <step>
 *   POSTROOM_FAULT=<step>:<n>  ... the n-th time (so some emails are already through)
 *
 * Unset (always, outside tests) it costs one string comparison per call and does nothing.
 * SIGKILL, not an exception: nothing may run after the fault, no finally, no flush, no close.
 */

export const FAULT_STEPS = Object.freeze([
  /** An email was fetched and kept in the content store; nothing is committed yet. */
  'after-fetch',
  /** Inside the commit transaction: ledger and outbox rows written, not committed. */
  'in-transaction',
  /** The commit is durable; the server has not been told to acknowledge. */
  'after-commit',
  /** The server has applied the acknowledgements; the ledger does not say so yet. */
  'during-acknowledge',
  /** The destination has the pipeline message; the outbox does not say so yet. */
  'during-delivery',
] as const);
export type FaultStep = (typeof FAULT_STEPS)[number];

/** Read once: the variable is set when the process starts, never later. */
const FAULT = process.env.POSTROOM_FAULT;
const [faultStep, faultAt] = (FAULT ?? '').split(':');
const faultOccurrence = faultAt ? Number(faultAt) : 1;
let reached = 0;

/** Kills this process with SIGKILL when POSTROOM_FAULT names `step` (and this is the n-th time). */
export function faultPoint(step: FaultStep): void {
  if (faultStep !== step) return;
  reached += 1;
  if (reached === faultOccurrence) process.kill(process.pid, 'SIGKILL');
}
