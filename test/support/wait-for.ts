/**
 * The one way tests wait for something that happens in the background: ask again every
 * `everyMs` until it holds, and after `timeoutMs` fail with an error naming what was awaited.
 *
 * The condition is always asked once more after the deadline has passed, so a condition that
 * became true during the last pause still counts.
 */

/** Often enough that a test does not wait noticeably longer than it must, rare enough to stay cheap. */
const DEFAULT_EVERY_MS = 20;

/** Thrown when the wait ran out; other errors from the condition reach the caller as they are. */
export class WaitTimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}`);
    this.name = 'WaitTimeoutError';
  }
}

/** Resolves with the first value `probe` returns other than undefined; throws WaitTimeoutError naming `what`. */
export async function waitForValue<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  everyMs = DEFAULT_EVERY_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new WaitTimeoutError(what, timeoutMs);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Resolves once `condition` holds; throws WaitTimeoutError naming `what` after `timeoutMs`. */
export async function waitFor(what: string, condition: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = DEFAULT_EVERY_MS): Promise<void> {
  await waitForValue(what, async () => ((await condition()) ? true : undefined), timeoutMs, everyMs);
}

/** Like waitFor, but says whether `condition` held within `timeoutMs` instead of throwing. */
export async function holdsWithin(condition: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = DEFAULT_EVERY_MS): Promise<boolean> {
  try {
    await waitFor('the condition', condition, timeoutMs, everyMs);
    return true;
  } catch (error) {
    if (error instanceof WaitTimeoutError) return false;
    throw error;
  }
}
