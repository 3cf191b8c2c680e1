/**
 * The one place that writes an account's pause: a new pause keeps the start of an unbroken run of
 * throttles (`since`) and counts it (`consecutive`, which drives the backoff); a success ends it.
 */
import type { AccountPause, ThrottleRecords, ThrottleState } from '../model/account-pause.ts';

export function accountPause(records: ThrottleRecords, now: () => number = Date.now): AccountPause {
  return {
    record: (account) => records.getThrottle(account),
    async current(account) {
      const state = await records.getThrottle(account);
      return state && state.until > now() ? state : undefined;
    },
    async pause(account, waitMs, reason) {
      const previous = await records.getThrottle(account);
      const at = now();
      const state: ThrottleState = {
        account,
        until: at + waitMs,
        reason,
        since: previous?.since ?? at,
        consecutive: (previous?.consecutive ?? 0) + 1,
      };
      await records.setThrottle(state);
      return state;
    },
    async resume(account) {
      const previous = await records.getThrottle(account);
      if (previous) await records.clearThrottle(account);
      return previous;
    },
  };
}
